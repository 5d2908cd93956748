using Cleanroom.Api.V1;

namespace Cleanroom.Cli.Rendering;

/// <summary>
/// <c>doctor</c> as text: one <c>pass|warn|fail  name  message</c> line per check (names aligned), what the daemon
/// enforces and what it refuses (its capabilities), then <c>summary: N pass, N warn, N fail</c>.
/// </summary>
internal static class DoctorReport
{
    public static void Write(TextWriter output, OutputStyle style, DoctorResponse response)
    {
        var nameWidth = response.Checks.Select(c => c.Name.Length).DefaultIfEmpty(0).Max();
        foreach (var check in response.Checks)
        {
            var status = Colorize(ApiText.Status(check.Status), check.Status, style.Color);
            var line = $"{status}  {check.Name.PadRight(nameWidth)}  {check.Message}";
            output.WriteLine(line.TrimEnd());
        }

        if (response.Capabilities.Count > 0)
        {
            var names = response.Capabilities.OrderBy(c => c.Key, StringComparer.Ordinal).ToList();
            output.WriteLine("supported: " + string.Join(' ', names.Where(c => c.Value).Select(c => c.Key)));
            output.WriteLine("not yet (refused when asked for): " + string.Join(' ', names.Where(c => !c.Value).Select(c => c.Key)));
        }

        int Count(CheckStatus status) => response.Checks.Count(c => c.Status == status);
        output.WriteLine($"summary: {Count(CheckStatus.Pass)} pass, {Count(CheckStatus.Warn)} warn, {Count(CheckStatus.Fail)} fail");
    }

    // Plain ANSI codes keep the line a single string whose columns stay aligned (escapes have no width).
    private static string Colorize(string text, CheckStatus status, bool color)
    {
        if (!color)
        {
            return text;
        }

        var code = status switch
        {
            CheckStatus.Pass => "32",
            CheckStatus.Warn => "33",
            CheckStatus.Fail => "31",
            _ => "0",
        };
        return $"\u001b[{code}m{text}\u001b[0m";
    }
}
