using System.Diagnostics;
using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Runs one short process in a template before it is snapshotted, so every sandbox restored from it finds what the
/// first command needs already in the guest's memory: the shell and C library pages in the page cache, the dynamic
/// loader's work done once. Measured with bench/bench.py warm: without it, the first command in a restored sandbox
/// cost about three times a later one. It also looks up the network card's name, which the guest remembers, so the
/// configure step does not walk /sys for it. Nothing sandbox-specific exists yet at this point, so nothing leaks into
/// clones. An image without /bin/sh is left alone.
/// </summary>
internal static class TemplateWarmUp
{
    private const string Shell = "/bin/sh";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public static void Run(ChildReaper reaper)
    {
        _ = GuestNetwork.FindCard();
        if (!File.Exists(Shell))
        {
            return;
        }

        var devNull = LibC.Open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0);
        if (devNull < 0)
        {
            AgentLog.Error($"template warm-up: cannot open /dev/null: {Errno.DescribeLast()}");
            return;
        }

        var clock = Stopwatch.StartNew();
        try
        {
            var (_, exited) = ProcessSpawner.Start(
                new SpawnSpec(Shell, ["sh", "-c", "true"], ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "/",
                    new PipeStdio(devNull, devNull, devNull), NewSession: false),
                reaper);
            var done = exited.Wait(Bound);
            AgentLog.Info(done
                ? $"template warm-up: ran {Shell} in {clock.ElapsedMilliseconds} ms"
                : $"template warm-up: {Shell} still running after {Bound.TotalSeconds:0} s; going on without it");
        }
        catch (SpawnException ex)
        {
            AgentLog.Error("template warm-up: " + ex.Message);
        }
        finally
        {
            LibC.Close(devNull);
        }
    }
}
