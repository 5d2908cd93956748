namespace Cleanroom.GuestAgent.Processes;

/// <summary>How a child ended: an exit code, or the signal that killed it (then <see cref="ExitCode"/> is 0).</summary>
internal readonly record struct ProcessExit(int ExitCode, int Signal)
{
    /// <summary>Decodes a waitpid status (WIFEXITED / WIFSIGNALED; stops are never requested).</summary>
    public static ProcessExit FromWaitStatus(int status)
    {
        var termination = status & 0x7f;
        return termination == 0 ? new ProcessExit((status >> 8) & 0xff, 0) : new ProcessExit(0, termination);
    }
}
