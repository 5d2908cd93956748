using System.Globalization;

namespace Cleanroom.HostProcesses;

/// <summary>Renders a process exit code the way a user reads it.</summary>
public static class ExitStatus
{
    /// <summary>
    /// The exit of a process that is not this one's child (a VM adopted after a daemon restart): the kernel reports
    /// its status to its parent only, so all that is known is that it ended.
    /// </summary>
    public const int Unknown = int.MinValue;

    /// <summary>"code 134 (SIGABRT)" when .NET reports death by signal (128+N), "code 1" otherwise.</summary>
    public static string Describe(int code) => code switch
    {
        Unknown => "an unknown status (it was not this daemon's child)",
        > 128 and < 160 => $"code {code} ({SignalName(code - 128)})",
        _ => "code " + code.ToString(CultureInfo.InvariantCulture),
    };

    private static string SignalName(int signal) => signal switch
    {
        2 => "SIGINT",
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => "signal " + signal.ToString(CultureInfo.InvariantCulture),
    };
}
