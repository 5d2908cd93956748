namespace Cleanroom.Workspaces.Changes;

/// <summary>
/// What a copy-out does to the working tree, in the order <see cref="CopyOutApplier"/> does it: move
/// <see cref="Removals"/> aside, then rename <see cref="NewDirectories"/> (whole, with what is staged below them) and
/// <see cref="Writes"/> from the staging tree into place. All paths are relative to the repository root.
/// </summary>
internal sealed class CopyOutPlan
{
    /// <summary>Local nodes replaced or deleted, top-most only (a directory carries its contents).</summary>
    public List<string> Removals { get; } = [];

    /// <summary>Staged directories the working tree lacks (once removals are done), top-most only, parents first.</summary>
    public List<string> NewDirectories { get; } = [];

    /// <summary>Staged files and symlinks to put in place, sorted; those below a new directory come with it.</summary>
    public List<string> Writes { get; } = [];

    public List<string> Added { get; } = [];

    public List<string> Modified { get; } = [];

    public List<string> ModeChanged { get; } = [];

    public List<string> Deleted { get; } = [];

    public List<CopyOutConflict> Conflicts { get; } = [];

    public int Unchanged { get; set; }

    public long BytesWritten { get; set; }

    /// <summary>The plan as the public result.</summary>
    public CopyOutResult ToResult(CopyOutOutcome outcome) => new()
    {
        Outcome = outcome,
        Added = Sorted(Added),
        Modified = Sorted(Modified),
        ModeChanged = Sorted(ModeChanged),
        Deleted = Sorted(Deleted),
        Conflicts = [.. Conflicts.OrderBy(c => c.Path, StringComparer.Ordinal)],
        Unchanged = Unchanged,
        BytesWritten = BytesWritten,
    };

    private static string[] Sorted(List<string> paths) => [.. paths.Order(StringComparer.Ordinal)];
}
