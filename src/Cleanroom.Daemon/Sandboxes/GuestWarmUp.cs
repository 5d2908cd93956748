using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Guest.Wire.Messages;
using Cleanroom.Vm;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>
/// The last step of every start, warm or cold: runs <c>true</c> in the guest through the path a user's command takes
/// (spawn, output, exit, release), so that path has run once in this guest and QEMU process before the sandbox is
/// ready. Under TCG a restored QEMU starts with nothing translated; run beside a user's first command, this made it
/// cost about twice a later one, run before the create answered it costs about what a later one does (bench/bench.py
/// warm). A cold boot's guest warms its own side while it boots, and its first command still cost 1.2 to 1.7 times a
/// later one without this.
/// </summary>
internal static class GuestWarmUp
{
    /// <summary>How long sending SIGKILL, and later the release, may wait for a busy channel.</summary>
    private static readonly TimeSpan ControlTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Runs it and returns its exit status. A command that cannot run (an image without <c>true</c>) is not a broken
    /// guest, so only a guest that does not finish it in time, or a failed connection, throws. One that overran gets
    /// SIGKILL first, and its stream is released once its exit comes, in the background (a sandbox that stays up keeps
    /// nothing of it, and its create does not wait for that).
    /// </summary>
    public static async Task<int> RunAsync(AgentClient agent, TimeSpan timeout, CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(timeout);
        GuestProcess? process = null;
        try
        {
            process = await agent.StartAsync(new ExecRequest { Argv = ["true"] }, bounded.Token, keepUntilReleased: true);
            while (await process.ReadOutputAsync(bounded.Token) is not null)
            {
                // A warm-up prints nothing; whatever it does print is not kept.
            }

            var exit = await process.Exited.WaitAsync(bounded.Token);
            await process.ReleaseAsync(bounded.Token);
            return exit.ShellExitCode;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            if (process is not null)
            {
                await KillAsync(process);
            }

            throw new VmException($"the warm-up command did not finish within {timeout.TotalSeconds:0.#} s");
        }
    }

    private static async Task KillAsync(GuestProcess process)
    {
        using var bounded = new CancellationTokenSource(ControlTimeout);
        try
        {
            await process.SignalAsync(9, bounded.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WireProtocolException or IOException or InvalidOperationException)
        {
            // A guest that cannot even do this shows it in the sandbox's first command.
            return;
        }

        _ = ReleaseOnceExitedAsync(process);
    }

    /// <summary>Ends with the exit, or with the connection (then there is nothing to release).</summary>
    private static async Task ReleaseOnceExitedAsync(GuestProcess process)
    {
        try
        {
            await process.Exited;
        }
        catch (WireProtocolException)
        {
            return;
        }

        using var bounded = new CancellationTokenSource(ControlTimeout);
        await process.ReleaseAsync(bounded.Token);
    }
}
