using Cleanroom.Guest.Wire.Guest;
using Cleanroom.Guest.Wire.Messages;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Turns a VM restored from a template into one sandbox, on the host's configure request: renews what the snapshot
/// froze (the random generator's state, the wall clock), then applies the sandbox's settings with
/// <see cref="SandboxSettings"/>. Never throws: every failure is logged and returned as the answer's error.
/// </summary>
internal sealed class SandboxConfigurator : IBootConfigurator
{
    private string? _brokenBy;

    /// <summary>
    /// A clone's first host: the warm-up again, in the background. The snapshot kept the template's page cache and
    /// parked threads, but a restored VM's emulator starts with nothing translated, so under TCG the first command
    /// paid for translating the spawn path: about 80 ms against 42 with this, a later one 16 to 24 (bench/bench.py warm).
    /// It runs beside the configure step that follows the hello. Once per clone: host 2 is a clone's first host (its
    /// memory counted the template's build host), and later hosts find this emulator's translations made. The daemon
    /// then runs its own warm-up command before the sandbox is ready; this one still shortens that step: warm creates
    /// took 284 and 305 ms p50 with it, 328 and 336 without (a third pair of rounds: 318 and 312).
    /// </summary>
    public void HostArrived(int host)
    {
        if (host == 2)
        {
            ExecWarmUp.StartInBackground(ChildReaper.Shared);
        }
    }

    public string? Configure(ConfigureMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_brokenBy is not null)
        {
            // The settings step is not repeatable (a half-mounted workspace, a card already up): no second try.
            return Report($"an earlier configuration failed part-way ({_brokenBy}); this guest cannot be configured again");
        }

        var timings = new StepTimings();
        var error = KernelEntropy.Add(message.Entropy);
        timings.Mark("entropy");
        error ??= WallClock.Set(message.UnixTimeNanoseconds);
        timings.Mark("clock");
        if (error is not null)
        {
            return Report(error);
        }

        BootOptions options;
        try
        {
            options = BootOptions.Parse(message.Arguments);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Report(ex.Message);
        }

        timings.Mark("parse");

        try
        {
            SandboxSettings.Apply(options, reloadWorkspaceDisk: true, timings);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _brokenBy = ex.Message;
            return Report(ex.Message);
        }

        AgentLog.Info($"configured from the host's request in {timings} (uptime {Uptime.Read()})");
        return null;
    }

    private static string Report(string error)
    {
        var line = error.ReplaceLineEndings(" ");
        AgentLog.Error("configure: " + line);
        return line;
    }
}
