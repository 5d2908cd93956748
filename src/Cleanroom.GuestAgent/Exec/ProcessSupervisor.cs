using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Guest;
using Cleanroom.Guest.Wire.Messages;
using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>
/// Runs one started child to the end: reports it, pumps its output and input, applies signals and resizes, and
/// turns its exit status into the exit message. If the host goes away the whole process group is killed.
/// </summary>
internal static class ProcessSupervisor
{
    public static async Task<ExitMessage> SuperviseAsync(int pid, Task<ProcessExit> exited, ProcessIo io, ExecLifetime lifetime, ExecSession session, ExecOptions options, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            await session.ReportStartedAsync(pid, cancellationToken);
        }
        catch (Exception ex) when (ex is WireProtocolException or OperationCanceledException)
        {
            // The host is gone; the cancellation below kills the child.
        }

        var outputs = OutputPump.Start(io.TakeOutputs(), session, lifetime, options.OutputIdleAfterExit, cancellationToken);
        var stdin = StdinPump.Start(io.TakeInput(), io.IsTerminal, session, lifetime, stop.Token);
        var controls = ApplyControlsAsync(pid, io, session, exited, stop.Token);

        ProcessExit exit;
        await using (cancellationToken.Register(() =>
        {
            ProcessSignals.SendToGroup(pid, LibC.SIGKILL);
            lifetime.Abort();
        }))
        {
            exit = await exited;
        }

        lifetime.MarkExited();
        await outputs;
        await stop.CancelAsync();
        await Task.WhenAll(stdin, controls);
        return exit.Signal != 0 ? new ExitMessage(0, exit.Signal, "") : new ExitMessage(exit.ExitCode, 0, "");
    }

    private static async Task ApplyControlsAsync(int pid, ProcessIo io, ExecSession session, Task exited, CancellationToken stop)
    {
        try
        {
            while (await session.Controls.WaitToReadAsync(stop))
            {
                while (session.Controls.TryRead(out var control))
                {
                    switch (control)
                    {
                        // Once reaped, the pid (and group id) may belong to someone else: never signal it then.
                        case SignalControl signal when !exited.IsCompleted:
                            ProcessSignals.SendToGroup(pid, signal.Signal);
                            break;
                        case ResizeControl resize:
                            io.Resize(resize.Cols, resize.Rows);
                            break;
                        default:
                            break;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The process ended.
        }
    }
}
