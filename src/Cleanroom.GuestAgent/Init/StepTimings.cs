using System.Diagnostics;
using System.Globalization;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// How long each step of a start-up sequence took, for the log line that ends it: a warm start's configure phase is
/// measured on the host as one number, and this says which of its steps the time went to.
/// </summary>
internal sealed class StepTimings
{
    private readonly List<(string Step, double Milliseconds)> _steps = [];
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _mark = Stopwatch.GetTimestamp();

    /// <summary>Ends the step running since the previous mark (or since construction) and names it.</summary>
    public void Mark(string step)
    {
        var now = Stopwatch.GetTimestamp();
        _steps.Add((step, Stopwatch.GetElapsedTime(_mark, now).TotalMilliseconds));
        _mark = now;
    }

    /// <summary>"entropy 0.4 ms, network 3.1 ms, … (total 12.0 ms)".</summary>
    public override string ToString() =>
        string.Join(", ", _steps.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Step} {s.Milliseconds:0.0} ms")))
        + string.Create(CultureInfo.InvariantCulture, $" (total {Stopwatch.GetElapsedTime(_started).TotalMilliseconds:0.0} ms)");
}
