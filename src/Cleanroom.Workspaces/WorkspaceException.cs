namespace Cleanroom.Workspaces;

/// <summary>What went wrong building a workspace, so callers can map it to an exit code or a hint.</summary>
public enum WorkspaceErrorKind
{
    /// <summary>The path is not inside a git repository (or git cannot open it).</summary>
    NotARepository,

    /// <summary>The revision names no commit in the repository.</summary>
    UnknownRevision,

    /// <summary>The commit's tree exceeds the configured byte or entry budget.</summary>
    TooLarge,

    /// <summary>A host tool (git, mkfs.ext4) failed while building the image.</summary>
    BuildFailed,

    /// <summary>
    /// A submodule the checkout asked for cannot be put in the image: not on the host and not fetchable, a refused
    /// URL, a name or path that would leave its directory, or no <c>.gitmodules</c> entry.
    /// </summary>
    SubmoduleFailed,

    /// <summary>An archive from a sandbox breaks the rules (leaves its root, device nodes, links out) or its limits.</summary>
    RejectedArchive,

    /// <summary>
    /// The local tree cannot take a copy-out safely (a parent is a symlink or not a directory, a nested repository
    /// would be touched), or applying it failed and was rolled back.
    /// </summary>
    CopyOutFailed,

    /// <summary>
    /// The commit's tree holds an entry git itself refuses to check out (a <c>.git</c> component, a name with a
    /// slash, an unknown mode, an oversized symlink target): only a crafted repository has one.
    /// </summary>
    InvalidTree,
}

/// <summary>
/// A workspace image could not be produced, or changes could not be copied in or out; the message says what the user
/// can do about it.
/// </summary>
public sealed class WorkspaceException : Exception
{
    public WorkspaceException()
    {
    }

    public WorkspaceException(string message)
        : base(message)
    {
    }

    public WorkspaceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public WorkspaceException(WorkspaceErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>The class of failure.</summary>
    public WorkspaceErrorKind Kind { get; } = WorkspaceErrorKind.BuildFailed;
}
