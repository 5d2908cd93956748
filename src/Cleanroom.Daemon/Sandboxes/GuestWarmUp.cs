using Cleanroom.Guest.Wire.Host;
using Cleanroom.Guest.Wire.Messages;
using Cleanroom.Vm;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>
/// The last step of a warm start: runs <c>true</c> in the restored guest through the path a user's command takes
/// (spawn, output, exit, release), so that path is translated in the new QEMU process before the sandbox is ready.
/// Under TCG a restored QEMU starts with nothing translated; run beside a user's first command, this made it cost
/// about twice a later one, run before the create answered it costs about what a later one does (bench/bench.py warm).
/// </summary>
internal static class GuestWarmUp
{
    /// <summary>How long the command may take before the restored VM is given up.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Runs it and returns its exit status. A command that cannot run (an image without <c>true</c>) is not a broken
    /// guest, so only a guest that does not finish it in time, or a failed connection, throws.
    /// </summary>
    public static async Task<int> RunAsync(AgentClient agent, CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(Timeout);
        try
        {
            var process = await agent.StartAsync(new ExecRequest { Argv = ["true"] }, bounded.Token, keepUntilReleased: true);
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
            throw new VmException($"the warm-up command did not finish within {Timeout.TotalSeconds:0} s");
        }
    }
}
