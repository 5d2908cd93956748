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

        ProcessExit exit;
        await using (cancellationToken.Register(() =>
        {
            ProcessSignals.SendToGroup(pid, LibC.SIGKILL);
            lifetime.Abort();
        }))
        {
            exit = await ApplyControlsUntilExitAsync(pid, io, session, exited, cancellationToken);
        }

        lifetime.MarkExited();
        await outputs;
        if (!stdin.IsCompleted)
        {
            // Input still attached: its pump ends now. A command without input has no pump, so its end costs no
            // hand-off to another thread (docs/architecture.md: what each of those costs under TCG).
            await stop.CancelAsync();
            await stdin;
        }

        return exit.Signal != 0 ? new ExitMessage(0, exit.Signal, "") : new ExitMessage(exit.ExitCode, 0, "");
    }

    /// <summary>
    /// Applies the host's signals and resizes, in order, until the process has been reaped, in this method rather than
    /// a loop of its own: ending such a loop after the exit took two hand-offs between threads per command. None is
    /// applied after the exit: the pid (and group id) may belong to someone else then, and the terminal is about to
    /// close. A wait for controls still pending at the exit is left to the session, which a later control or its end
    /// completes.
    /// </summary>
    private static async Task<ProcessExit> ApplyControlsUntilExitAsync(int pid, ProcessIo io, ExecSession session, Task<ProcessExit> exited, CancellationToken cancellationToken)
    {
        while (!exited.IsCompleted)
        {
            var more = session.Controls.WaitToReadAsync(cancellationToken).AsTask();
            if (await Task.WhenAny(exited, more) == exited)
            {
                break;
            }

            bool open;
            try
            {
                open = await more;
            }
            catch (OperationCanceledException)
            {
                open = false; // The host is gone or the agent stops: the registration in SuperviseAsync kills the child.
            }

            if (!open)
            {
                break;
            }

            while (!exited.IsCompleted && session.Controls.TryRead(out var control))
            {
                switch (control)
                {
                    case SignalControl signal:
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

        return await exited;
    }
}
