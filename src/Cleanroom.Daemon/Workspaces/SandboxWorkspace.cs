namespace Cleanroom.Daemon.Workspaces;

/// <summary>
/// The repository a sandbox was created with, as recorded with the sandbox (one JSON column) and shown by inspect.
/// </summary>
/// <param name="Repository">What the client called the repository: its remote's URL (without credentials) or its host path.</param>
/// <param name="Commit">The exact commit checked out.</param>
/// <param name="Path">The checkout's guest path (the policy's repository.path).</param>
/// <param name="LocalChangesCopied">The client copied its uncommitted changes in on top of the commit.</param>
/// <param name="ImageBuilt">The daemon built the commit's image for this sandbox (false: it was cached).</param>
/// <param name="SkippedSubmodules">Submodule paths left as empty directories.</param>
public sealed record SandboxWorkspace(
    string Repository,
    string Commit,
    string Path,
    bool LocalChangesCopied,
    bool ImageBuilt,
    IReadOnlyList<string> SkippedSubmodules);
