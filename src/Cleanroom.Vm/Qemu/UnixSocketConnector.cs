using System.Net.Sockets;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// Connects to a unix socket that a just-started QEMU is about to create: retries while the path is missing or
/// refuses, gives up as soon as QEMU has exited (nothing will ever listen) or the timeout passes.
/// </summary>
internal static class UnixSocketConnector
{
    // QEMU binds its sockets some 30 to 40 ms after it starts (under TCG here), and they are on the critical path: the
    // console's gates the guest's boot (QEMU waits for it), QMP's a restore from a template. Retrying every millisecond
    // at first picks each up within about a millisecond instead of up to ten, for some forty failed connects (well under
    // a millisecond of CPU); a QEMU slower than that is retried every ten.
    private static readonly TimeSpan FastRetryDelay = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan FastRetryPeriod = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(10);

    public static async Task<Socket> ConnectAsync(string path, Task ownerExited, TimeSpan timeout, string what, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
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
            var delay = System.Diagnostics.Stopwatch.GetElapsedTime(started) < FastRetryPeriod ? FastRetryDelay : RetryDelay;
            await Task.WhenAny(Task.Delay(delay, deadline.Token), ownerExited);
            if (deadline.IsCancellationRequested)
            {
                ct.ThrowIfCancellationRequested();
                throw Timeout();
            }
        }

        VmException Timeout() => new($"{what} at {path} did not accept a connection within {timeout.TotalSeconds:0.#} s (last error: {last?.Message ?? "none"}).");
    }
}
