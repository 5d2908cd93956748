using System.Globalization;
using Cleanroom.Api.V1;
using Google.Protobuf.WellKnownTypes;
using Spectre.Console;

namespace Cleanroom.Cli.Rendering;

/// <summary>Text forms of API values shared by tables and inspect output.</summary>
internal static class ApiText
{
    /// <summary>RFC 3339 in UTC to the second; empty when unset.</summary>
    public static string Time(Timestamp? timestamp) =>
        timestamp is null ? "" : timestamp.ToDateTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Status(SandboxStatus status) => status switch
    {
        SandboxStatus.Provisioning => "provisioning",
        SandboxStatus.Ready => "ready",
        SandboxStatus.Stopping => "stopping",
        SandboxStatus.Stopped => "stopped",
        SandboxStatus.Failed => "failed",
        _ => "unknown",
    };

    public static string Status(ExecutionStatus status) => status switch
    {
        ExecutionStatus.Queued => "queued",
        ExecutionStatus.Running => "running",
        ExecutionStatus.Succeeded => "succeeded",
        ExecutionStatus.Failed => "failed",
        ExecutionStatus.Canceled => "canceled",
        ExecutionStatus.TimedOut => "timed_out",
        _ => "unknown",
    };

    public static string Status(CheckStatus status) => status switch
    {
        CheckStatus.Pass => "pass",
        CheckStatus.Warn => "warn",
        CheckStatus.Fail => "fail",
        _ => "????",
    };

    public static Color? StatusColor(SandboxStatus status) => status switch
    {
        SandboxStatus.Ready => Color.Green,
        SandboxStatus.Provisioning or SandboxStatus.Stopping => Color.Yellow,
        SandboxStatus.Failed => Color.Red,
        SandboxStatus.Stopped => Color.Grey,
        _ => null,
    };

    public static Color? StatusColor(ExecutionStatus status) => status switch
    {
        ExecutionStatus.Succeeded => Color.Green,
        ExecutionStatus.Queued or ExecutionStatus.Running => Color.Yellow,
        ExecutionStatus.Failed or ExecutionStatus.TimedOut => Color.Red,
        ExecutionStatus.Canceled => Color.Grey,
        _ => null,
    };

    /// <summary>A command line for display: arguments with spaces or quotes are single-quoted as a shell would.</summary>
    public static string Command(IEnumerable<string> argv) => string.Join(' ', argv.Select(Quote));

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@%+".Contains(c, StringComparison.Ordinal))
            ? argument
            : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
