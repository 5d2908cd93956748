using Cleanroom.Workspaces.Git;

namespace Cleanroom.Workspaces.Repositories;

/// <summary>
/// What a caller may ask for in a remote repository: nothing (the remote's default branch), a branch or tag name, a
/// full ref (<c>refs/heads/x</c>), or a commit id (full, or a prefix of at least 7 hex digits). Revision expressions
/// (<c>main~2</c>, <c>@{u}</c>, <c>:/text</c>) are refused: a name is looked up only where it says, and nothing that
/// git could read as an option or a range reaches its command line.
/// </summary>
internal sealed record RevisionName(string Value)
{
    /// <summary>Shortest commit id prefix accepted, as git abbreviates by default.</summary>
    public const int MinPrefixLength = 7;

    private const int MaxLength = 255;

    /// <summary>The remote's default branch (<c>HEAD</c>).</summary>
    public bool IsDefault => Value.Length == 0;

    /// <summary>A full object id: looked up locally before any fetch.</summary>
    public bool IsFullId => CommitResolver.IsObjectId(Value);

    /// <summary>Could be a commit id prefix (it may also be a branch or tag name, which win).</summary>
    public bool IsIdPrefix => Value.Length >= MinPrefixLength && Value.Length <= 64 && Value.All(char.IsAsciiHexDigitLower);

    /// <summary>Validates <paramref name="commitish"/>; throws <see cref="RepositoryException"/> (UnknownRevision).</summary>
    public static RevisionName Parse(string? commitish)
    {
        var value = commitish ?? "";
        if (value.Length == 0)
        {
            return new RevisionName("");
        }

        // git's check-ref-format rules, plus no leading '-' (an option) and no ':' (a refspec).
        var valid = value.Length <= MaxLength
            && value[0] != '-'
            && !value.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '~' or '^' or ':' or '?' or '*' or '[' or '\\')
            && !value.Contains("..", StringComparison.Ordinal)
            && !value.Contains("@{", StringComparison.Ordinal)
            && !value.Contains("//", StringComparison.Ordinal)
            && value != "@"
            && !value.StartsWith('/')
            && !value.EndsWith('/')
            && !value.EndsWith('.')
            && !value.EndsWith(".lock", StringComparison.Ordinal)
            && !value.Split('/').Any(part => part.StartsWith('.'));
        if (!valid)
        {
            throw new RepositoryException(
                RepositoryErrorKind.UnknownRevision,
                $"'{Printable(value)}' is not a branch, tag or commit id (revision expressions such as main~1 are not supported).");
        }

        // Commit ids are case-insensitive hex; git prints and compares them in lower case.
        return new RevisionName(CommitResolver.IsObjectId(value.ToLowerInvariant()) ? value.ToLowerInvariant() : value);
    }

    /// <summary>The refs to try, in order: a full ref as given, else the branch, then the tag.</summary>
    public IReadOnlyList<string> CandidateRefs() =>
        Value.StartsWith("refs/", StringComparison.Ordinal) ? [Value] : ["refs/heads/" + Value, "refs/tags/" + Value];

    private static string Printable(string value) => new([.. value.Take(100).Select(c => char.IsControl(c) ? '?' : c)]);
}
