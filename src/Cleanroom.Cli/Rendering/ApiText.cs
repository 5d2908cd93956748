using System.Globalization;
using System.Text;
using Cleanroom.Api.V1;
using Cleanroom.Escaping;
using Google.Protobuf.WellKnownTypes;
using Spectre.Console;

namespace Cleanroom.Cli.Rendering;

/// <summary>Text forms of API values shared by tables and inspect output.</summary>
internal static class ApiText
{
    /// <summary>RFC 3339 in UTC to the second; empty when unset.</summary>
    public static string Time(Timestamp? timestamp) =>
        timestamp is null ? "" : timestamp.ToDateTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>How long before <paramref name="now"/>, as a person says it: "3 minutes ago"; empty when unset.</summary>
    public static string Ago(Timestamp? timestamp, DateTimeOffset now)
    {
        if (timestamp is null || (timestamp.Seconds == 0 && timestamp.Nanos == 0))
        {
            return "";
        }

        var age = now - timestamp.ToDateTimeOffset();
        return age switch
        {
            // A clock that is slightly behind the daemon's must not print "-2 seconds ago".
            { TotalSeconds: < 1 } => "just now",
            { TotalMinutes: < 1 } => Count((int)age.TotalSeconds, "second"),
            { TotalHours: < 1 } => Count((int)age.TotalMinutes, "minute"),
            { TotalDays: < 1 } => Count((int)age.TotalHours, "hour"),
            { TotalDays: < 14 } => Count((int)age.TotalDays, "day"),
            { TotalDays: < 60 } => Count((int)(age.TotalDays / 7), "week"),
            { TotalDays: < 730 } => Count((int)(age.TotalDays / 30), "month"),
            _ => Count((int)(age.TotalDays / 365), "year"),
        };

        static string Count(int n, string unit) => n == 1 ? $"1 {unit} ago" : string.Create(CultureInfo.InvariantCulture, $"{n} {unit}s ago");
    }

    /// <summary>A size for people, in binary units without a space so a plain table stays one word per cell: 12.3MiB.</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = Math.Max(0, bytes);
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        var format = unit == 0 || value >= 100 ? "0" : "0.#";
        return value.ToString(format, CultureInfo.InvariantCulture) + units[unit];
    }

    /// <summary><c>sha256:</c> and the first 12 hex digits: enough to tell images apart and to name one to the daemon.</summary>
    public static string ShortDigest(string digest)
    {
        const int Shown = 12;
        var colon = digest.IndexOf(':', StringComparison.Ordinal);
        return colon >= 0 && digest.Length > colon + 1 + Shown ? digest[..(colon + 1 + Shown)] : digest;
    }

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

    /// <summary>
    /// A command line for display: arguments with spaces or quotes are single-quoted as a shell would. Any API client
    /// chose it, so each argument is escaped first (see <see cref="UntrustedText"/>: a newline shows as <c>\n</c>, an
    /// escape sequence as <c>\x1b</c>, a backslash doubled) and the line is cut at <paramref name="maxLength"/>: it cannot
    /// forge output lines or drive the terminal.
    /// </summary>
    public static string Command(IEnumerable<string> argv, int maxLength = UntrustedText.DefaultMaxLength)
    {
        ArgumentNullException.ThrowIfNull(argv);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        var line = new StringBuilder();
        var cut = 0;
        foreach (var argument in argv)
        {
            if (line.Length > maxLength)
            {
                cut++;
                continue;
            }

            // Escaped whole (the API's message size bounds it) so the cut below counts what is really left out.
            line.Append(line.Length == 0 ? "" : " ").Append(Quote(UntrustedText.Escape(argument, int.MaxValue)));
        }

        if (line.Length <= maxLength && cut == 0)
        {
            return line.ToString();
        }

        // Never between the halves of a surrogate pair: a lone half is not text a terminal should get.
        var keep = Math.Min(line.Length, char.IsHighSurrogate(line[maxLength - 1]) ? maxLength - 1 : maxLength);
        return string.Create(CultureInfo.InvariantCulture, $"{line.ToString(0, keep)}…(cut: {line.Length - keep} more characters{(cut > 0 ? $", {cut} more arguments" : "")})");
    }

    /// <summary>A length of time for people: "850ms", "4.2s", "3m12s", "2h05m".</summary>
    public static string Duration(TimeSpan duration) => duration switch
    {
        { TotalSeconds: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (int)duration.TotalMilliseconds)}ms"),
        { TotalMinutes: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(duration.TotalSeconds * 10) / 10:0.#}s"),
        { TotalHours: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{duration.Minutes}m{duration.Seconds:00}s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(long)duration.TotalHours}h{duration.Minutes:00}m"),
    };

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@%+".Contains(c, StringComparison.Ordinal))
            ? argument
            : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
