using System.Runtime.InteropServices;
using Cleanroom.Client;

namespace Cleanroom.Cli;

/// <summary>Routes this process's SIGINT and SIGTERM into an <see cref="InterruptSignal"/>.</summary>
internal sealed class ProcessSignals : IDisposable
{
    private readonly PosixSignalRegistration[] _registrations;

    private ProcessSignals(InterruptSignal target)
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Deliver(context, target, Signals.Interrupt)),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Deliver(context, target, Signals.Terminate)),
        ];
    }

    public static ProcessSignals Forward(InterruptSignal target) => new(target);

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    // Cancel = true keeps the process alive; when nobody handles a repeated interrupt the default action (exit)
    // happens, so a stuck command can always be left with a second Ctrl-C.
    private static void Deliver(PosixSignalContext context, InterruptSignal target, int signal) =>
        context.Cancel = target.Raise(signal);
}
