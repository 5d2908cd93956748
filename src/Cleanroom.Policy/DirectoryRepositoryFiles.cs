using Cleanroom.Policy.Text;

namespace Cleanroom.Policy;

/// <summary>
/// Matches input patterns against a checkout on disk. The search stops at the first match, skips <c>.git</c>,
/// does not follow symbolic links to directories (no cycles), and gives up after <see cref="MaxEntriesVisited"/>
/// entries so that a pattern like <c>**/*.nothing</c> in a huge tree cannot stall validation.
/// </summary>
public sealed class DirectoryRepositoryFiles : IRepositoryFiles
{
    /// <summary>How many directory entries one pattern may visit before the search gives up.</summary>
    public const int MaxEntriesVisited = 200_000;

    private static readonly EnumerationOptions Listing = new()
    {
        IgnoreInaccessible = true,
        RecurseSubdirectories = false,
        AttributesToSkip = 0,
        ReturnSpecialDirectories = false,
    };

    private readonly string _root;

    /// <summary>Matches against the directory <paramref name="root"/>.</summary>
    public DirectoryRepositoryFiles(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
    }

    /// <inheritdoc/>
    public InputMatch Match(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var segments = pattern.Split('/');
        if (!segments.Any(s => s == "**" || GlobSegment.HasWildcard(s)))
        {
            var path = Path.Combine(_root, pattern);
            return File.Exists(path) ? InputMatch.Matched
                : Directory.Exists(path) ? InputMatch.IsDirectory
                : InputMatch.NotFound;
        }

        var search = new Search(segments);
        if (search.Find(_root, 0))
        {
            return InputMatch.Matched;
        }

        return search.GaveUp ? InputMatch.SearchTooLarge : InputMatch.NotFound;
    }

    /// <summary>One depth-first search with its own visit budget.</summary>
    private sealed class Search(string[] segments)
    {
        private int _visited;

        public bool GaveUp { get; private set; }

        public bool Find(string directory, int index)
        {
            if (GaveUp)
            {
                return false;
            }

            var segment = segments[index];
            var isLast = index == segments.Length - 1;
            if (segment == "**")
            {
                // "**" stands for zero or more directories: try the rest here, then one level deeper.
                if (isLast ? AnyFile(directory) : Find(directory, index + 1))
                {
                    return true;
                }

                return Subdirectories(directory).Any(sub => Find(sub, index));
            }

            if (!GlobSegment.HasWildcard(segment))
            {
                var path = Path.Combine(directory, segment);
                return isLast ? File.Exists(path) : Directory.Exists(path) && Find(path, index + 1);
            }

            foreach (var entry in Entries(directory))
            {
                if (!GlobSegment.IsMatch(segment, Path.GetFileName(entry)))
                {
                    continue;
                }

                if (isLast ? File.Exists(entry) : IsPlainDirectory(entry) && Find(entry, index + 1))
                {
                    return true;
                }
            }

            return false;
        }

        private bool AnyFile(string directory) =>
            Entries(directory).Any(File.Exists) || Subdirectories(directory).Any(AnyFile);

        private IEnumerable<string> Subdirectories(string directory) =>
            Entries(directory).Where(e => Path.GetFileName(e) != ".git" && IsPlainDirectory(e));

        private IEnumerable<string> Entries(string directory)
        {
            IEnumerable<string> entries;
            try
            {
                entries = Directory.EnumerateFileSystemEntries(directory, "*", Listing).ToList();
            }
            catch (IOException)
            {
                yield break;
            }
            catch (UnauthorizedAccessException)
            {
                yield break;
            }

            foreach (var entry in entries)
            {
                if (++_visited > MaxEntriesVisited)
                {
                    GaveUp = true;
                    yield break;
                }

                yield return entry;
            }
        }

        private static bool IsPlainDirectory(string path)
        {
            var info = new DirectoryInfo(path);
            return info.Exists && info.LinkTarget is null;
        }
    }
}
