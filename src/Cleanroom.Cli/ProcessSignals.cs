using System.Runtime.InteropServices;
using Cleanroom.Client;

namespace Cleanroom.Cli;

/// <summary>
/// Routes this process's SIGINT and SIGTERM into an <see cref="InterruptSignal"/>, and makes sure they end the
/// process. The first signal cancels the command's token; a command that does not return within
/// <see cref="Grace"/> — stuck in a call that ignores its token, such as opening a FIFO — is ended anyway with
/// 128+signal (143 for SIGTERM), because a supervisor that sends SIGTERM expects the process to go. A signal a
/// running exec takes over is left to exec's own rules (the first is passed to the guest command, the second
/// detaches), since exec must still remove its sandbox.
/// </summary>
internal sealed class ProcessSignals : IDisposable
{
    /// <summary>How long a command has after an interrupt it does not take over before the process exits anyway.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    private readonly InterruptSignal _target;
    private readonly Action<string> _notice;
    private readonly Timer _deadline;
    private readonly PosixSignalRegistration[] _registrations;
    private int _deadlineSignal;

    private ProcessSignals(InterruptSignal target, Action<string> notice)
    {
        _target = target;
        _notice = notice;
        _deadline = new Timer(_ => ExitNow());
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Deliver(context, Signals.Interrupt)),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Deliver(context, Signals.Terminate)),
        ];
    }

    /// <summary>Starts forwarding; <paramref name="notice"/> writes the line printed when the grace runs out.</summary>
    public static ProcessSignals Forward(InterruptSignal target, Action<string> notice) => new(target, notice);

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _deadline.Dispose();
    }

    // Cancel = true keeps the process alive; when nobody handles a repeated interrupt the default action (exit)
    // happens, so a stuck command can always be left with a second Ctrl-C or SIGTERM.
    private void Deliver(PosixSignalContext context, int signal)
    {
        var takenOver = _target.HasSubscribers;
        context.Cancel = _target.Raise(signal);
        if (!takenOver && Interlocked.CompareExchange(ref _deadlineSignal, signal, 0) == 0)
        {
            _deadline.Change(Grace, Timeout.InfiniteTimeSpan);
        }
    }

    private void ExitNow()
    {
        var signal = Volatile.Read(ref _deadlineSignal);
        _notice($"still running {Grace.TotalSeconds:0} s after {(signal == Signals.Terminate ? "SIGTERM" : "SIGINT")}; exiting");
        Environment.Exit(Signals.ExitCode(signal));
    }
}
