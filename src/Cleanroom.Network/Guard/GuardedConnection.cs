using System.Net;
using System.Net.Sockets;
using Cleanroom.Escaping;
using Cleanroom.Network.Dns;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Network.Guard;

/// <summary>
/// One guest connection through the guard: connects to the original destination at once (so a server that speaks
/// first is heard), relays the server's bytes freely, holds the guest's bytes until its first message is decided,
/// then either resets both sides or relays both ways until each has closed its half, under an idle timeout.
/// </summary>
internal sealed partial class GuardedConnection(Socket guest, DnsClient client, IPEndPoint original, GuardContext context)
{
    private const string Protocol = "tcp";
    private const string Reason = "host_not_allowed";

    private ConnectionGuardOptions Options => context.Options;

    /// <summary>Serves the connection to its end; never throws. Both sockets are closed when it returns.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        using var life = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var watch = new IdleWatch(context.Time, Options.IdleTimeout);
        var watchdog = watch.RunAsync(life);
        Socket? upstream = null;
        var clean = false;
        try
        {
            upstream = await ConnectAsync(life.Token);
            if (upstream is null)
            {
                return;
            }

            var down = EndOnFailure(RelayAsync(upstream, guest, watch, life.Token), life);
            var up = EndOnFailure(GuardThenRelayAsync(upstream, watch, life.Token), life);
            var results = await Task.WhenAll(down, up);
            clean = results[0] && results[1];
        }
        catch (Exception e)
        {
            // A bug here must end this connection only, and be seen.
            LogFailed(context.Logger, client.SandboxId, e);
        }
        finally
        {
            await life.CancelAsync();
            await watchdog;
            if (watch.Expired)
            {
                context.Statistics.CountIdleTimeout();
            }

            if (clean)
            {
                guest.Dispose();
                upstream?.Dispose();
            }
            else
            {
                SocketClose.Abort(guest);
                SocketClose.Abort(upstream);
            }
        }
    }

    private async Task<Socket?> ConnectAsync(CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(Options.ConnectTimeout);
        try
        {
            return await context.Connect(original, deadline.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            context.Statistics.CountUpstreamFailure();
            LogUpstreamFailed(context.Logger, client.SandboxId, original, e.Message);
            return null;
        }
    }

    // Ends the whole connection as soon as one direction fails, so the other stops waiting.
    private static async Task<bool> EndOnFailure(Task<bool> direction, CancellationTokenSource life)
    {
        var ok = await direction;
        if (!ok)
        {
            await life.CancelAsync();
        }

        return ok;
    }

    /// <summary>Guest to upstream: read and decide the first message, then relay. False when refused or failed.</summary>
    private async Task<bool> GuardThenRelayAsync(Socket upstream, IdleWatch watch, CancellationToken ct)
    {
        var buffer = new byte[Options.MaxFirstMessageBytes];
        var have = 0;
        CancellationTokenSource? deadline = null;
        try
        {
            while (true)
            {
                var received = await guest.ReceiveAsync(buffer.AsMemory(have), SocketFlags.None, deadline?.Token ?? ct);
                watch.Touch();
                if (received == 0 && have == 0)
                {
                    // The guest closed its half without a word: nothing to decide, the server may still talk.
                    context.Statistics.CountAllowedUnnamed();
                    upstream.Shutdown(SocketShutdown.Send);
                    return await RelayAsync(guest, upstream, watch, ct, alreadyClosed: true);
                }

                if (deadline is null)
                {
                    // The clock for the first message starts at its first byte: a silent client is only idle.
                    deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    deadline.CancelAfter(Options.FirstMessageTimeout);
                }

                have += received;
                var message = FirstMessageClassifier.Classify(buffer.AsSpan(0, have), Options.MaxFirstMessageBytes);
                if (message.Kind == FirstMessageKind.NeedMore)
                {
                    if (received == 0)
                    {
                        return Unreadable("a first message the guest closed before it was complete");
                    }

                    if (have == buffer.Length)
                    {
                        return Unreadable("a first message longer than the guard reads");
                    }

                    continue;
                }

                if (!Decide(message))
                {
                    return false;
                }

                await SendAllAsync(upstream, buffer.AsMemory(0, have), ct);
                if (received == 0)
                {
                    upstream.Shutdown(SocketShutdown.Send);
                    return await RelayAsync(guest, upstream, watch, ct, alreadyClosed: true);
                }

                return await RelayAsync(guest, upstream, watch, ct);
            }
        }
        catch (OperationCanceledException) when (deadline?.IsCancellationRequested == true && !ct.IsCancellationRequested)
        {
            return Unreadable("a first message not finished in time");
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            return false;
        }
        finally
        {
            deadline?.Dispose();
        }
    }

    /// <summary>True when every name in the message is allowed on the original port (or it names none).</summary>
    private bool Decide(FirstMessage message)
    {
        if (message.Kind == FirstMessageKind.Malformed)
        {
            return Unreadable(message.Problem ?? "a malformed first message");
        }

        if (message.Names.Count == 0)
        {
            // Another protocol, or TLS without a server name: the address was allowed for this port by DNS, and such a
            // connection cannot ask the server for a host by name.
            context.Statistics.CountAllowedUnnamed();
            return true;
        }

        foreach (var name in message.Names)
        {
            if (!client.AllowAll && !client.Policy.Evaluate(name, original.Port).IsAllowed)
            {
                context.Statistics.CountDenied();
                var shown = UntrustedText.Escape(name, HostName.MaxLength);
                LogDenied(context.Logger, client.SandboxId, shown, original.Port, original.Address);
                context.Audit.Denied(new EgressDenial(client.SandboxId, context.Time.GetUtcNow(), shown, original.Port, Protocol, Reason));
                return false;
            }
        }

        context.Statistics.CountAllowedNamed();
        return true;
    }

    // A first message that claims TLS or HTTP but cannot be checked: refused like a denied name, recorded by address.
    private bool Unreadable(string problem)
    {
        context.Statistics.CountRefusedUnreadable();
        LogUnreadable(context.Logger, client.SandboxId, original, problem);
        context.Audit.Denied(new EgressDenial(client.SandboxId, context.Time.GetUtcNow(), original.Address.ToString(), original.Port, Protocol, Reason));
        return false;
    }

    /// <summary>
    /// Copies until <paramref name="from"/> closes its half, then closes the same half of <paramref name="to"/>. Past
    /// <see cref="ConnectionGuardOptions.SpliceAfterBytes"/> the rest is spliced in the kernel (see <see cref="SpliceRelay"/>).
    /// </summary>
    private async Task<bool> RelayAsync(Socket from, Socket to, IdleWatch watch, CancellationToken ct, bool alreadyClosed = false)
    {
        if (alreadyClosed)
        {
            return true;
        }

        var buffer = new byte[Options.RelayBufferBytes];
        var spliceAfter = Options.SpliceAfterBytes ?? long.MaxValue;
        long relayed = 0;
        try
        {
            while (true)
            {
                if (relayed >= spliceAfter)
                {
                    // Between two copies nothing of this direction is pending: the kernel can take over from here.
                    var pipe = SplicePipe.TryCreate();
                    if (pipe is not null)
                    {
                        using (pipe)
                        {
                            context.Statistics.CountSpliced();
                            return await SpliceRelay.RunAsync(from, to, pipe, watch, ct);
                        }
                    }

                    spliceAfter = long.MaxValue; // no descriptors for a pipe now: keep copying
                }

                var received = await from.ReceiveAsync(buffer, SocketFlags.None, ct);
                watch.Touch();
                if (received == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return true;
                }

                await SendAllAsync(to, buffer.AsMemory(0, received), ct);
                watch.Touch();
                relayed += received;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            return false;
        }
    }

    private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (!data.IsEmpty)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None, ct);
            data = data[sent..];
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "guard: sandbox {Sandbox} asked {Address}:{Port} for {Name}: host_not_allowed")]
    private static partial void LogDenied(ILogger logger, string sandbox, string name, int port, IPAddress address);

    [LoggerMessage(Level = LogLevel.Debug, Message = "guard: sandbox {Sandbox} sent {Destination} {Problem}: refused")]
    private static partial void LogUnreadable(ILogger logger, string sandbox, IPEndPoint destination, string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "guard: sandbox {Sandbox} could not be connected to {Destination}: {Message}")]
    private static partial void LogUpstreamFailed(ILogger logger, string sandbox, IPEndPoint destination, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "guard: a connection of sandbox {Sandbox} failed")]
    private static partial void LogFailed(ILogger logger, string sandbox, Exception exception);
}
