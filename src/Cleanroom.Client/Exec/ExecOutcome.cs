namespace Cleanroom.Client.Exec;

/// <summary>How an exec ended.</summary>
public enum ExecOutcome
{
    /// <summary>The command ended and its exit code is known.</summary>
    Exited,

    /// <summary>The client stopped following the command (second interrupt, or the caller cancelled).</summary>
    Detached,

    /// <summary>The client's stdout was closed by its reader; the command was sent SIGPIPE.</summary>
    BrokenPipe,

    /// <summary>The daemon or the transport failed; the exit code is 1.</summary>
    Failed,
}
