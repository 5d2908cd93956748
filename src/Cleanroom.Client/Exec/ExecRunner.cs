namespace Cleanroom.Client.Exec;

/// <summary>
/// Runs one command through the daemon and waits for it: creates a sandbox unless given one, starts the command,
/// streams its stdout and stderr live to separate streams, forwards stdin, and removes a sandbox it created
/// unless asked to keep it — also when the command fails or the user interrupts.
/// </summary>
/// <remarks>
/// Interrupts: the first one sends its signal (SIGINT for Ctrl-C) to the command and keeps streaming, so the exit
/// code is the command's own (normally 130); the second one detaches at once with 128+signal; a third one stops
/// waiting for the sandbox's removal.
/// </remarks>
public sealed class ExecRunner(DaemonConnection daemon)
{
    /// <summary>Runs the exec to its end (see the class remarks for interrupts).</summary>
    /// <param name="spec">What to run and where.</param>
    /// <param name="io">Where output goes and stdin comes from.</param>
    /// <param name="events">Callbacks; null for none.</param>
    /// <param name="interrupts">Interrupts that signal the command, then detach; null for none.</param>
    /// <param name="cancellationToken">Detaches at once: the command is not signalled.</param>
    public async Task<ExecResult> RunAsync(
        ExecSpec spec,
        ExecIo io,
        ExecEvents? events = null,
        InterruptSignal? interrupts = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(io);
        if (spec.Command.Count == 0)
        {
            throw new ArgumentException("the command is empty", nameof(spec));
        }

        using var session = new ExecSession(daemon, spec, io, events ?? new ExecEvents(), cancellationToken);
        using var subscription = interrupts?.Subscribe(session.Interrupt);
        return await session.RunAsync();
    }
}
