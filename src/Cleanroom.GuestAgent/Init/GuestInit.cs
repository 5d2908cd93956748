using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Guest;
using Cleanroom.GuestAgent.Channel;
using Cleanroom.GuestAgent.Exec;
using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// The agent as the VM's init (PID 1 from the initramfs): bring the system up, serve the host until it asks for
/// shutdown, then power off. Every failure is logged and ends in a power-off; PID 1 must never return or throw.
/// </summary>
internal static class GuestInit
{
    private const string ProbeMarker = "CLEANROOM-PROBE-OK";
    private static readonly TimeSpan PortTimeout = TimeSpan.FromSeconds(5);

    public static void Run()
    {
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            // A crash on any thread would make the kernel panic; say why and stop the VM cleanly instead.
            AgentLog.Error("fatal: " + e.ExceptionObject);
            PowerControl.PowerOff();
        };

        try
        {
            Boot();
        }
        catch (Exception ex)
        {
            AgentLog.Error("boot failed: " + ex.Message);
            AgentLog.Error("powering off");
        }

        PowerControl.PowerOff();
    }

    private static void Boot()
    {
        Mounts.MountIfAbsent("proc", "/proc", "proc");
        Mounts.MountIfAbsent("devtmpfs", "/dev", "devtmpfs", LibC.MS_NOSUID, "mode=0755");
        StdioGuard.EnsureOpen();
        AgentLog.UseConsole();
        var options = BootOptions.Parse(File.ReadAllText("/proc/cmdline"));
        if (options.Probe)
        {
            AgentLog.Raw(ProbeMarker);
            PowerControl.PowerOff();
        }

        AgentLog.Info($"init started (uptime {Uptime.Read()})");
        var reaper = ChildReaper.Shared;
        var handler = new ExecHandler(ExecOptions.Default, GuestFileSystem.Instance, reaper);
        if (!options.Template)
        {
            // Beside the module loading, on another vCPU. A template's clones get theirs from the host (the daemon's
            // warm-up command), which also translates the path in each restored emulator.
            LoopbackExecWarmUp.StartInBackground(handler);
        }

        var timings = new StepTimings();
        using var watchdog = BootWatchdog.Start(timings, () => LoopbackExecWarmUp.State);
        Mounts.MountIfAbsent("sysfs", "/sys", "sysfs");
        // Two costs of an idle sandbox to its host that nothing in it needs (the line is what an integration test checks).
        // Beside the module loading: in line it took 17 to 42 ms of the boot under TCG (first use of the code it runs).
        // Joined before serving, so a template is snapshotted with both done.
        var idle = WorkerThreads.Run(() => AgentLog.Info($"idle: {LegacyPitTimer.StopIfUnused()}; {ProactiveCompaction.TurnOff()}"));
        ModuleLoader.LoadAll();
        timings.Mark("modules");
        RootSwitcher.SwitchTo(options.RootDevice);
        timings.Mark("root");
        SystemMounts.MountAll();
        HostName.Set("cleanroom");
        timings.Mark("mounts");

        // A template boot stops short of the sandbox's own settings: it is snapshotted once serving and restored as
        // many sandboxes, each of which gets its settings from the host's configure request.
        BootConfiguration? configuration = null;
        if (options.Template)
        {
            configuration = new BootConfiguration(new SandboxConfigurator());
            ExecWarmUp.RunForTemplate(ChildReaper.Shared);
            timings.Mark("warm-up");
        }
        else
        {
            ExecWarmUp.StartInBackground(ChildReaper.Shared);
            timings.Mark("warm-up");
            SandboxSettings.Apply(options, reloadWorkspaceDisk: false, timings);
        }

        JoinIdleSteps(idle);
        timings.Mark("idle wait");
        var device = VirtioPortFinder.WaitFor(options.PortName, PortTimeout);
        timings.Mark("port");
        var waiting = options.Template ? ", template: waiting for the sandbox's configuration" : "";
        AgentLog.Info($"ready: root {options.RootDevice}, serving on {device}{waiting} after {timings} (uptime {Uptime.Read()})");
        watchdog.Dispose();

        new AgentLoop(device, handler, WireLimits.Default, configuration).RunUntilShutdownAsync(CancellationToken.None).GetAwaiter().GetResult();
        ShutdownSequence.Run(reaper);
    }

    /// <summary>Waits for the idle-cost steps; their failure only costs the host CPU, so it is logged, never fatal.</summary>
    private static void JoinIdleSteps(Task idle)
    {
        try
        {
            idle.GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            AgentLog.Warn("idle: " + ex.Message);
        }
    }
}
