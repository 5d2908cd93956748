using System.Diagnostics;
using System.Globalization;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// How long each step of a start-up sequence took, for the log line that ends it: a warm start's configure phase is
/// measured on the host as one number, and this says which of its steps the time went to. Also read by the
/// <see cref="BootWatchdog"/> on another thread while the steps run, hence the lock.
/// </summary>
internal sealed class StepTimings
{
    private readonly object _lock = new();
    private readonly List<(string Step, double Milliseconds)> _steps = [];
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _mark = Stopwatch.GetTimestamp();

    /// <summary>Ends the step running since the previous mark (or since construction) and names it.</summary>
    public void Mark(string step)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            _steps.Add((step, Stopwatch.GetElapsedTime(_mark, now).TotalMilliseconds));
            _mark = now;
        }
    }

    /// <summary>
    /// Records a step that ran on another thread beside the current one, without ending the current one: it is listed
    /// as "NAME beside 26.5 ms" and does not end the step running here, so the total is not counted twice.
    /// </summary>
    public void Beside(string step, TimeSpan elapsed)
    {
        lock (_lock)
        {
            _steps.Add((step + " beside", elapsed.TotalMilliseconds));
        }
    }

    /// <summary>"entropy 0.4 ms, network 3.1 ms, … (total 12.0 ms)".</summary>
    public override string ToString()
    {
        lock (_lock)
        {
            return Steps() + string.Create(CultureInfo.InvariantCulture, $" (total {Stopwatch.GetElapsedTime(_started).TotalMilliseconds:0.0} ms)");
        }
    }

    /// <summary>"done: modules 404.9 ms, root 66.2 ms; the next step has run 19530.2 ms" (for a step that does not end).</summary>
    public string Progress()
    {
        lock (_lock)
        {
            var done = _steps.Count == 0 ? "no step done" : "done: " + Steps();
            return done + string.Create(CultureInfo.InvariantCulture, $"; the next step has run {Stopwatch.GetElapsedTime(_mark).TotalMilliseconds:0.0} ms");
        }
    }

    private string Steps() =>
        string.Join(", ", _steps.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Step} {s.Milliseconds:0.0} ms")));
}
