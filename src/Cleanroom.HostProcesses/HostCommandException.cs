namespace Cleanroom.HostProcesses;

/// <summary>A host tool could not be started, timed out, or exited non-zero. The message names the command.</summary>
public sealed class HostCommandException : Exception
{
    public HostCommandException()
    {
    }

    public HostCommandException(string message)
        : base(message)
    {
    }

    public HostCommandException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public HostCommandException(string message, string command, int? exitCode, string stderrTail, Exception? innerException = null)
        : base(message, innerException)
    {
        Command = command;
        ExitCode = exitCode;
        StderrTail = stderrTail;
    }

    /// <summary>The command line as displayed to the user.</summary>
    public string Command { get; } = string.Empty;

    /// <summary>Null when the command never exited on its own (not found, timed out).</summary>
    public int? ExitCode { get; }

    public string StderrTail { get; } = string.Empty;
}
