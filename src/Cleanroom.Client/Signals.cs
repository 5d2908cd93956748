namespace Cleanroom.Client;

/// <summary>Linux signal numbers the client sends or reports (exit code = 128 + signal).</summary>
public static class Signals
{
    public const int Interrupt = 2;
    public const int Kill = 9;
    public const int Pipe = 13;
    public const int Terminate = 15;

    public static int ExitCode(int signal) => 128 + signal;
}
