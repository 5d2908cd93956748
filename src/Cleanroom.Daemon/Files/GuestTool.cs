using System.Text;
using Cleanroom.Escaping;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Daemon.Files;

/// <summary>
/// Runs one of the guest agent's built-in file tools (see docs/guest-tools.md) over the sandbox's agent connection,
/// the way an execution runs but without an execution record or output log: stdout goes to the caller (who bounds
/// it), stdin comes from the caller, stderr is kept up to <see cref="MaxErrorBytes"/>. Everything the tool says is
/// from the guest, so its text is escaped before anyone shows it.
/// </summary>
internal static class GuestTool
{
    /// <summary>Stderr kept from a tool: enough for its error lines, not a channel for a guest to flood the daemon.</summary>
    public const int MaxErrorBytes = 8 << 10;

    /// <param name="agent">The sandbox's agent connection.</param>
    /// <param name="argv">The tool and its arguments.</param>
    /// <param name="user">Guest user to run as; empty for root.</param>
    /// <param name="stdin">Writes the tool's stdin (it is closed after); null closes it at once.</param>
    /// <param name="stdout">Receives the tool's stdout in order; null discards it.</param>
    /// <param name="ct">Cancels the tool (it is killed).</param>
    public static async Task<GuestToolResult> RunAsync(
        AgentClient agent,
        IReadOnlyList<string> argv,
        string user,
        Func<GuestProcess, CancellationToken, Task>? stdin,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? stdout,
        CancellationToken ct)
    {
        var process = await agent.StartAsync(new ExecRequest { Argv = argv, Tool = true, User = user }, ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var feeding = FeedAsync(process, stdin, stop);
        var errors = new MemoryStream();
        try
        {
            while (await process.ReadOutputAsync(stop.Token) is { } chunk)
            {
                if (chunk.Stream == OutputStreamKind.Stderr)
                {
                    var room = MaxErrorBytes - (int)errors.Length;
                    errors.Write(chunk.Data.Span[..Math.Min(room, chunk.Data.Length)]);
                }
                else if (stdout is not null)
                {
                    await stdout(chunk.Data, stop.Token);
                }
            }

            var exit = await process.Exited.WaitAsync(stop.Token);

            // The writer finishes even when the tool ended early: StdinStream drops what an exited tool cannot read.
            await feeding;

            var text = UntrustedText.Escape(Encoding.UTF8.GetString(errors.GetBuffer(), 0, (int)errors.Length).TrimEnd('\n'), MaxErrorBytes);
            return new GuestToolResult(exit.ShellExitCode, exit.Error.Length > 0 && text.Length == 0 ? UntrustedText.Escape(exit.Error) : text);
        }
        catch (Exception ex)
        {
            // Whatever failed (the caller's budget, a cancelled call, a broken stream), the tool must not run on.
            await stop.CancelAsync();
            await KillAsync(process);
            await feeding.ContinueWith(_ => { }, TaskScheduler.Default);

            // The reader only stopped because the writer failed: its error is the one that says why.
            if (ex is OperationCanceledException && !ct.IsCancellationRequested && feeding.Exception?.InnerException is { } writerError)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(writerError);
            }

            throw;
        }
    }

    /// <summary>
    /// Writes stdin and closes it. If the writer fails (a client that broke off, a budget), the read loop is stopped
    /// too: the tool would otherwise wait for the rest of its input, and the reader for its exit, forever.
    /// </summary>
    private static async Task FeedAsync(GuestProcess process, Func<GuestProcess, CancellationToken, Task>? stdin, CancellationTokenSource stop)
    {
        try
        {
            if (stdin is not null)
            {
                await stdin(process, stop.Token);
            }

            await process.CloseStdinAsync(stop.Token);
        }
        catch
        {
            await stop.CancelAsync();
            throw;
        }
    }

    private static async Task KillAsync(GuestProcess process)
    {
        try
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await process.SignalAsync(9, grace.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WireProtocolException or IOException or ObjectDisposedException)
        {
            // The connection is gone or going: so is the tool.
        }
    }
}
