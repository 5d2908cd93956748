namespace Cleanroom.Workspaces.Repositories;

/// <summary>What went wrong getting a remote repository, so callers can map it to an exit code or a hint.</summary>
public enum RepositoryErrorKind
{
    /// <summary>The URL is malformed, uses a transport that is not allowed, or carries a credential.</summary>
    InvalidUrl,

    /// <summary>The remote refused the host's credentials, or needed some the host does not have.</summary>
    AuthenticationFailed,

    /// <summary>The fetch failed for another reason (unreachable host, no such repository, timeout).</summary>
    FetchFailed,

    /// <summary>The revision names no branch, tag or commit of the repository.</summary>
    UnknownRevision,

    /// <summary>The mirror grew past the configured size limit while fetching.</summary>
    TooLarge,
}

/// <summary>
/// A repository could not be fetched or resolved. Messages never hold a credential: git's output is scrubbed before
/// it is quoted, and URLs with credentials are refused before git sees them.
/// </summary>
public sealed class RepositoryException : Exception
{
    public RepositoryException()
    {
    }

    public RepositoryException(string message)
        : base(message)
    {
    }

    public RepositoryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RepositoryException(RepositoryErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>The class of failure.</summary>
    public RepositoryErrorKind Kind { get; } = RepositoryErrorKind.FetchFailed;
}
