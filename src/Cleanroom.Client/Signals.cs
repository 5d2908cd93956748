namespace Cleanroom.Client;

/// <summary>Linux signal numbers the client sends or reports (exit code = 128 + signal).</summary>
public static class Signals
{
    /// <summary>SIGINT.</summary>
    public const int Interrupt = 2;
    /// <summary>SIGKILL.</summary>
    public const int Kill = 9;
    /// <summary>SIGPIPE.</summary>
    public const int Pipe = 13;
    /// <summary>SIGTERM.</summary>
    public const int Terminate = 15;

    /// <summary>The exit code of a process killed by <paramref name="signal"/>.</summary>
    public static int ExitCode(int signal) => 128 + signal;
}
