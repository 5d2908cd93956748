using System.Security.Cryptography;
using System.Text;

namespace Cleanroom.Workspaces.Git;

/// <summary>A tag pointing at a workspace commit: its full ref name and the object it names (a tag object when annotated).</summary>
/// <param name="RefName">The full name, <c>refs/tags/...</c>.</param>
/// <param name="ObjectId">The commit itself (lightweight) or the annotated tag object.</param>
/// <param name="Annotated">True when <paramref name="ObjectId"/> is a tag object, which must be packed too.</param>
internal sealed record CommitTag(string RefName, string ObjectId, bool Annotated);

/// <summary>
/// The tags that point at a commit, so the image's <c>.git</c> has them and <c>git describe</c> works in the guest.
/// One short <c>git for-each-ref --points-at</c>; the set is part of the image's key, so a tag made later on the same
/// commit gets a new image instead of a stale one.
/// </summary>
internal static class CommitTags
{
    /// <summary>Most tags taken from one commit; real commits have a handful.</summary>
    public const int MaxTags = 256;

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The tags of <paramref name="repository"/> pointing at <paramref name="commit"/>, sorted by name; empty when
    /// git cannot list them (no repository: the cached image by id is still served). Names git would not accept as
    /// ref names are left out, and at most <see cref="MaxTags"/> are taken.
    /// </summary>
    public static async Task<IReadOnlyList<CommitTag>> ListAsync(string repository, string commit, CancellationToken ct)
    {
        var run = await HostGit.TryRunAsync(
            repository, isolated: false, ["for-each-ref", "--points-at", commit, "--format=%(objectname) %(objecttype) %(refname)", "refs/tags/"], Timeout, ct);
        if (run.ExitCode != 0)
        {
            return [];
        }

        var tags = new List<CommitTag>();
        foreach (var line in run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            if (parts.Length == 3 && CommitResolver.IsObjectId(parts[0]) && parts[1] is "commit" or "tag" && IsPlainTagName(parts[2]))
            {
                tags.Add(new CommitTag(parts[2], parts[0], parts[1] == "tag"));
            }
        }

        return [.. tags.OrderBy(t => t.RefName, StringComparer.Ordinal).Take(MaxTags)];
    }

    /// <summary>16 hex digits naming the set, for the image key; empty for no tags (the key stays the plain one).</summary>
    public static string KeyPart(IReadOnlyList<CommitTag> tags) =>
        tags.Count == 0
            ? ""
            : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(tags.Select(t => $"{t.ObjectId} {t.RefName}\n")))))[..16];

    /// <summary>The <c>packed-refs</c> file of the image: one line per tag, sorted; git peels annotated ones itself.</summary>
    public static string PackedRefs(IReadOnlyList<CommitTag> tags) => string.Concat(tags.Select(t => $"{t.ObjectId} {t.RefName}\n"));

    /// <summary>
    /// A name safe to write into <c>packed-refs</c>: under <c>refs/tags/</c>, printable ASCII without the characters
    /// and sequences git forbids in ref names.
    /// </summary>
    private static bool IsPlainTagName(string name) =>
        name.StartsWith("refs/tags/", StringComparison.Ordinal)
        && name.Length is > 10 and <= 1024
        && name.All(c => c is > ' ' and < '\u007f' and not ('~' or '^' or ':' or '?' or '*' or '[' or '\\'))
        && !name.Contains("..", StringComparison.Ordinal)
        && !name.Contains("@{", StringComparison.Ordinal)
        && !name.Contains("//", StringComparison.Ordinal)
        && !name.EndsWith('/') && !name.EndsWith(".lock", StringComparison.Ordinal) && !name.EndsWith('.');
}
