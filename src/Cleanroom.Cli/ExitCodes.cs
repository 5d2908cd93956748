namespace Cleanroom.Cli;

/// <summary>Exit codes of the CLI itself; exec passes the guest command's code through instead.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The daemon or the transport failed, or the daemon rejected the request.</summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong.</summary>
    public const int Usage = 2;

    /// <summary>Interrupted by Ctrl-C (128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
