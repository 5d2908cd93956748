namespace Cleanroom.Images.Layers;

/// <summary>
/// What the layer being applied has written so far, and the directory times to set once it is done. An opaque
/// whiteout may follow siblings of the same layer in the tar, so it must tell this layer's paths from lower layers'.
/// </summary>
internal sealed class LayerWriteLog
{
    private readonly HashSet<string> _writtenOrAncestor = new(StringComparer.Ordinal);
    private readonly List<(string Relative, DateTimeOffset ModificationTime)> _directoryTimes = [];
    private readonly HashSet<string> _freeOfLowerChildren = new(StringComparer.Ordinal);

    /// <summary>
    /// Directory mtimes, in entry order. They are set last because adding or removing children changes a directory's
    /// mtime, and later entries of the layer do both.
    /// </summary>
    public IReadOnlyList<(string Relative, DateTimeOffset ModificationTime)> DirectoryTimes => _directoryTimes;

    /// <summary>Records <paramref name="relative"/> (a resolved path) and the directories above it as this layer's.</summary>
    public void RecordWritten(string relative)
    {
        if (!_writtenOrAncestor.Add(relative))
        {
            return;
        }

        // Ancestors are added bottom-up and the walk stops at the first one already known: that one's own ancestors
        // were added with it, so each directory is stored once however many entries it holds.
        var lookup = _writtenOrAncestor.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var slash = relative.LastIndexOf('/'); slash > 0; slash = relative.LastIndexOf('/', slash - 1))
        {
            if (!lookup.Add(relative.AsSpan(0, slash)))
            {
                return;
            }
        }
    }

    /// <summary>True when this layer wrote <paramref name="relative"/> or something below it.</summary>
    public bool WroteAtOrBelow(string relative) => _writtenOrAncestor.Contains(relative);

    /// <summary>
    /// Notes that nothing from lower layers is left below <paramref name="relative"/> (it was made by this layer, or an
    /// opaque whiteout already cleared it); returns false if that was known. Lower content cannot come back within
    /// the layer, so each directory is scanned at most once however many opaque markers name it or its parents.
    /// </summary>
    public bool MarkFreeOfLowerChildren(string relative) => _freeOfLowerChildren.Add(relative);

    public void DeferDirectoryTime(string relative, DateTimeOffset modificationTime) => _directoryTimes.Add((relative, modificationTime));
}
