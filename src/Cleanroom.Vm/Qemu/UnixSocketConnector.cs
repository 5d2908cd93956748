using System.Net.Sockets;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// Connects to a unix socket that a just-started QEMU is about to create: retries while the path is missing or
/// refuses, gives up as soon as QEMU has exited (nothing will ever listen) or the timeout passes.
/// </summary>
internal static class UnixSocketConnector
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(10);

    public static async Task<Socket> ConnectAsync(string path, Task ownerExited, TimeSpan timeout, string what, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        SocketException? last = null;
        while (true)
        {
            if (ownerExited.IsCompleted)
            {
                throw new VmException($"QEMU exited before {what} accepted a connection.");
            }

            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), deadline.Token);
                return socket;
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                socket.Dispose();
                throw Timeout();
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            // Task.WhenAny does not throw when the delay is cancelled: check the deadline explicitly.
            await Task.WhenAny(Task.Delay(RetryDelay, deadline.Token), ownerExited);
            if (deadline.IsCancellationRequested)
            {
                ct.ThrowIfCancellationRequested();
                throw Timeout();
            }
        }

        VmException Timeout() => new($"{what} at {path} did not accept a connection within {timeout.TotalSeconds:0.#} s (last error: {last?.Message ?? "none"}).");
    }
}
