using System.Globalization;
using System.Text;

namespace Cleanroom.Workspaces.Git;

/// <summary>
/// Counts a commit's tree with <c>git ls-tree -r -t -l -z</c>, streaming its output instead of holding it (two million
/// entries print hundreds of MB), and stops git as soon as a budget is exceeded, so a huge repository is refused in
/// the time it takes to list the budget's worth of it.
/// </summary>
internal static class TreeScanner
{
    /// <summary>
    /// Most entries a listing is kept for (about 150 bytes each held): an image of a bigger tree is built the slower
    /// way, from a checkout, rather than holding hundreds of MB.
    /// </summary>
    public const int MaxListedEntries = 500_000;

    /// <summary>
    /// Scans <paramref name="commit"/>; throws <see cref="WorkspaceException"/> (TooLarge) past a budget. The budgets
    /// hold for the whole image: <paramref name="already"/> (the trees scanned before, a superproject's for its
    /// submodules) counts against them too. With <paramref name="keepListing"/> the summary also holds the tree's
    /// entries (see <see cref="TreeSummary.Listing"/>).
    /// </summary>
    public static async Task<TreeSummary> ScanAsync(
        string repositoryPath, string commit, long maxBytes, long maxEntries, TimeSpan timeout, CancellationToken ct, TreeSummary? already = null, bool keepListing = false)
    {
        var counter = new Counter(maxBytes, maxEntries, keepListing) { Entries = already?.Entries ?? 0, Bytes = already?.ContentBytes ?? 0 };
        await GitRecords.ReadAsync(
            repositoryPath, ["ls-tree", "-r", "-t", "-l", "-z", "--full-tree", commit], counter.Add, $"Listing commit {commit}", timeout, ct);
        return new TreeSummary(counter.Entries, counter.Bytes, counter.Gitlinks.Select(g => g.Path).ToList(), counter.Gitlinks, counter.Listing);
    }

    /// <summary>Parses <c>MODE SP TYPE SP OID SP+ SIZE TAB PATH</c> records and enforces the budgets as it goes.</summary>
    private sealed class Counter(long maxBytes, long maxEntries, bool keepListing)
    {
        private List<TreeEntry>? _listing = keepListing ? [] : null;

        /// <summary>The entries kept, or null when not asked for or too many.</summary>
        public IReadOnlyList<TreeEntry>? Listing => _listing;

        public long Entries { get; set; }

        public long Bytes { get; set; }

        public List<Gitlink> Gitlinks { get; } = [];

        public void Add(ReadOnlySpan<byte> record)
        {
            var tab = record.IndexOf((byte)'\t');
            if (tab < 0)
            {
                throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, "`git ls-tree` printed a record without a path.");
            }

            var fields = Encoding.ASCII.GetString(record[..tab]).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 4)
            {
                throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, "`git ls-tree` printed an unexpected record.");
            }

            Entries++;
            long size = 0;
            if (fields[1] == "blob" && long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out size))
            {
                Bytes += size;
            }
            else if (fields[1] == "commit")
            {
                Gitlinks.Add(new Gitlink(Encoding.UTF8.GetString(record[(tab + 1)..]), fields[2]));
            }

            if (Entries > maxEntries)
            {
                throw new WorkspaceException(
                    WorkspaceErrorKind.TooLarge,
                    $"The commit's tree has more than {maxEntries:N0} entries, the workspace limit; raise it (cleanroom serve --workspace-max-files) or run without the repository.");
            }

            if (Bytes > maxBytes)
            {
                throw new WorkspaceException(
                    WorkspaceErrorKind.TooLarge,
                    $"The commit's tree holds more than {FormatBytes(maxBytes)} of files, the workspace limit; raise it (cleanroom serve --workspace-max-size) or run without the repository.");
            }

            Keep(fields, size, record[(tab + 1)..]);
        }

        private void Keep(string[] fields, long size, ReadOnlySpan<byte> path)
        {
            if (_listing is null)
            {
                return;
            }

            if (_listing.Count >= MaxListedEntries)
            {
                _listing = null;
                return;
            }

            if (fields[0].Length is 0 or > 6 || !fields[0].All(c => c is >= '0' and <= '7')
                || fields[2].Length is not (40 or 64) || !fields[2].All(char.IsAsciiHexDigitLower))
            {
                throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, "`git ls-tree` printed an unexpected mode or object id.");
            }

            _listing.Add(new TreeEntry(Convert.ToInt32(fields[0], 8), Convert.FromHexString(fields[2]), size, path.ToArray()));
        }

        private static string FormatBytes(long bytes) =>
            bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.#} GiB" : $"{bytes / (double)(1L << 20):0.#} MiB";
    }
}
