using System.Globalization;

namespace Cleanroom.Daemon.State;

/// <summary>One step of a sandbox's create and how long it took (stored as <c>name=ms</c>, comma-separated).</summary>
public sealed record BootPhase(string Name, long Milliseconds)
{
    public static string Format(IReadOnlyList<BootPhase> phases) =>
        string.Join(',', phases.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Name}={p.Milliseconds}")));

    public static IReadOnlyList<BootPhase> Parse(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('=', 2))
            .Where(kv => kv.Length == 2 && long.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .Select(kv => new BootPhase(kv[0], long.Parse(kv[1], CultureInfo.InvariantCulture)))
            .ToList();
}
