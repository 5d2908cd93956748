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

    /// <summary>
    /// A directory on a memory file system (tmpfs) that only this process's user can write, e.g. under the daemon's
    /// runtime directory in /run; null to always stage inside the store. Staging is written once, read once by
    /// mkfs.ext4 and deleted: on a busy disk its journal work (a create and a delete per file) was most of a cold
    /// build (checkout 2.3–2.7 s on disk against 0.7–0.9 s on tmpfs for 5,000 files / 50 MB).
    /// </summary>
    public string? MemoryStagingDirectory { get; init; }

    /// <summary>Largest staging (tree plus packed objects) put in <see cref="MemoryStagingDirectory"/>; larger ones use the store.</summary>
    public long MemoryStagingMaxBytes { get; init; } = 2L << 30;

    /// <summary>How long one git or mkfs step may run before it is killed.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(20);

    /// <summary>Deepest submodule nesting checked out (a submodule of the repository is depth 1); deeper is refused.</summary>
    public int MaxSubmoduleDepth { get; init; } = 4;

    /// <summary>Most submodules (all depths together) one image may hold; more is refused.</summary>
    public int MaxSubmodules { get; init; } = 64;

    /// <summary>
    /// Always build images the slower way (a git checkout into a staging directory, then <c>mkfs.ext4 -d</c>) instead
    /// of writing blobs straight into the image; for comparing the two (bench/) and as a way out should the direct
    /// writer ever be at fault.
    /// </summary>
    public bool CheckoutWithGit { get; init; }
}
