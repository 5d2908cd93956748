using System.Diagnostics;
using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Runs one short process (<c>sh -c true</c>) during boot, so the first command finds what it needs already in the
/// guest: the shell and C library pages in the page cache, the dynamic loader's work done once, and under TCG the
/// spawn path's code translated. A template waits for it before its snapshot (every sandbox restored from it gets
/// that for free; without it the first command in a restored sandbox cost about three times a later one, measured
/// with bench/bench.py warm; a clone runs it again in the background when its first host says hello, see
/// <see cref="SandboxConfigurator.HostArrived"/>), and looks up the network card's name, which the guest remembers,
/// so the configure step does not look for it; nothing sandbox-specific exists there yet. Both first park the worker
/// threads a command's pumps run on (<see cref="WorkerThreads.Prestart"/>), which a template's snapshot keeps. A cold
/// boot starts it in the background while the agent configures the sandbox (network, identity), so with two or more
/// vCPUs it runs beside that work, and does not wait for it; it touches none of the sandbox's settings. With two or
/// more vCPUs the boot warmed the agent's own side of the path before that (<see cref="LoopbackExecWarmUp"/>). The
/// process gets /dev/null for its stdio. An image without /bin/sh is left alone.
/// </summary>
internal static class ExecWarmUp
{
    private const string Shell = "/bin/sh";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>A command's output pump (stdout and stderr) and stdin pump, each on a worker thread of its own.</summary>
    private const int PumpsPerCommand = 2;

    /// <summary>For a template: runs the warm-up and waits for it (bounded).</summary>
    public static void RunForTemplate(ChildReaper reaper)
    {
        _ = GuestNetwork.FindCard();
        var clock = Stopwatch.StartNew();
        if (Start(reaper) is not { } exited)
        {
            return;
        }

        AgentLog.Info(exited.Wait(Bound)
            ? $"template warm-up: ran {Shell} in {clock.ElapsedMilliseconds} ms"
            : $"template warm-up: {Shell} still running after {Bound.TotalSeconds:0} s; going on without it");
    }

    /// <summary>For a cold boot: starts the warm-up and returns at once; the reaper collects it.</summary>
    public static void StartInBackground(ChildReaper reaper) => _ = Start(reaper);

    private static Task<ProcessExit>? Start(ChildReaper reaper)
    {
        WorkerThreads.Prestart(PumpsPerCommand);
        if (!File.Exists(Shell))
        {
            return null;
        }

        var devNull = LibC.Open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0);
        if (devNull < 0)
        {
            AgentLog.Error($"warm-up: cannot open /dev/null: {Errno.DescribeLast()}");
            return null;
        }

        try
        {
            var (_, exited) = ProcessSpawner.Start(
                new SpawnSpec(Shell, ["sh", "-c", "true"], ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "/",
                    new PipeStdio(devNull, devNull, devNull), NewSession: false),
                reaper);
            return exited;
        }
        catch (SpawnException ex)
        {
            AgentLog.Error("warm-up: " + ex.Message);
            return null;
        }
        finally
        {
            // The child has its own copies by now (or never started).
            LibC.Close(devNull);
        }
    }
}
