using Cleanroom.Guest.Wire;
using Cleanroom.GuestAgent;
using Cleanroom.GuestAgent.Channel;
using Cleanroom.GuestAgent.Exec;
using Cleanroom.GuestAgent.Init;
using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Tools;

// As /init (PID 1) the agent boots the VM. Otherwise it is its own exec-as helper, one of its built-in file tools
// (started by the exec path for a Tool request), or (for debugging in a guest booted some other way) a plain server
// on a given port device.
if (args.Length > 0 && args[0] == ExecAsCommand.Flag)
{
    return ExecAsCommand.Run(ExactArguments.Of(args));
}

if (args.Length > 0 && args[0] == ToolCommand.Flag)
{
    // Exact: a path argument may be a file name that is not valid UTF-8.
    return ToolCommand.RunOnStandardStreams(ExactArguments.Of(args)[1..]);
}

if (LibC.GetPid() == 1)
{
    GuestInit.Run();
    return 0; // Not reached: init powers the VM off.
}

if (args.Length == 2 && args[0] == "--port")
{
    await new AgentLoop(args[1], new ExecHandler(), WireLimits.Default).RunUntilShutdownAsync(CancellationToken.None);
    AgentLog.Info("shutdown requested (not PID 1: exiting instead of powering off)");
    return 0;
}

AgentLog.Error("usage: cleanroom-guest-agent --port /dev/vportNpM   (as PID 1 it configures itself from /proc/cmdline)");
return 2;
