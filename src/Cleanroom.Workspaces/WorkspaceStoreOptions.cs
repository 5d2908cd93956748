namespace Cleanroom.Workspaces;

/// <summary>Where workspace images live and how big a commit's tree may be before it is refused.</summary>
public sealed class WorkspaceStoreOptions
{
    /// <summary>Directory holding <c>&lt;key&gt;.ext4</c> images, their metadata, locks and staging directories.</summary>
    public required string StoreDirectory { get; init; }

    /// <summary>Most bytes of file content a commit's tree may hold (checked before anything is written).</summary>
    public long MaxTreeBytes { get; init; } = 20L << 30;

    /// <summary>Most entries (files, directories, symlinks, submodules) a commit's tree may hold.</summary>
    public long MaxTreeEntries { get; init; } = 2_000_000;

    /// <summary>How long one git or mkfs step may run before it is killed.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(20);
}
