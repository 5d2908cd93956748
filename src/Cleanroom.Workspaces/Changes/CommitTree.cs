using System.Globalization;
using System.Text;
using Cleanroom.Escaping;
using Cleanroom.Workspaces.Git;

namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// The commit's mode and blob id at the paths a copy-out needs, from one streamed <c>git ls-tree -r -z --full-tree</c>.
/// One listing of the whole tree, filtered as it streams, costs less than a process per path and has no argv limit;
/// only the wanted entries are kept.
/// </summary>
internal static class CommitTree
{
    /// <summary>Mode and blob of each of <paramref name="wanted"/> the commit has (blobs and submodule commits).</summary>
    public static Task<Dictionary<string, BaseEntry>> LookUpAsync(
        string repositoryRoot, string commit, IReadOnlySet<string> wanted, TimeSpan timeout, CancellationToken ct) =>
        wanted.Count == 0
            ? Task.FromResult(new Dictionary<string, BaseEntry>(StringComparer.Ordinal))
            : LookUpAsync(repositoryRoot, commit, wanted.Contains, timeout, ct);

    /// <summary>Mode and blob of every path of the commit that <paramref name="wanted"/> accepts.</summary>
    public static async Task<Dictionary<string, BaseEntry>> LookUpAsync(
        string repositoryRoot, string commit, Func<string, bool> wanted, TimeSpan timeout, CancellationToken ct)
    {
        var found = new Dictionary<string, BaseEntry>(StringComparer.Ordinal);

        await GitRecords.ReadAsync(
            repositoryRoot,
            ["ls-tree", "-r", "-z", "--full-tree", commit],
            record =>
            {
                // MODE SP TYPE SP OID TAB PATH
                var tab = record.IndexOf((byte)'\t');
                // Exact, even for a name that is not UTF-8, so it matches the names the working tree and archives give.
                var path = tab < 0 ? null : FileNameBytes.Decode(record[(tab + 1)..]);
                if (path is null || !wanted(path))
                {
                    return;
                }

                var fields = Encoding.ASCII.GetString(record[..tab]).Split(' ');
                if (fields.Length == 3)
                {
                    found[path] = new BaseEntry(fields[0], fields[2].ToLower(CultureInfo.InvariantCulture));
                }
            },
            $"Listing commit {commit}",
            timeout,
            ct);
        return found;
    }
}
