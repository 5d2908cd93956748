using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Cleanroom.Network.Tests.Guard.Queue.Support;

/// <summary>One connection the <see cref="RecordingServer"/> accepted: how many bytes it received so far, and its end.</summary>
internal sealed class RecordedConnection
{
    private long _received;

    public long Received => Interlocked.Read(ref _received);

    public List<byte> FirstBytes { get; } = [];

    public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal void Add(ReadOnlySpan<byte> data)
    {
        lock (FirstBytes)
        {
            var room = Math.Max(0, 4096 - FirstBytes.Count);
            FirstBytes.AddRange(data[..Math.Min(room, data.Length)]);
        }

        Interlocked.Add(ref _received, data.Length);
    }
}

/// <summary>
/// The "internet" end: accepts TCP on a socket made in the server namespace, counts what each connection receives
/// (so a test sees that a refused guest's bytes never arrived), and when the client closes its half answers with
/// <c>replyBytes</c> bytes and closes.
/// </summary>
internal sealed class RecordingServer : IDisposable
{
    private readonly Socket _listener;
    private readonly Channel<RecordedConnection> _accepted = Channel.CreateUnbounded<RecordedConnection>();
    private readonly CancellationTokenSource _stop = new();
    private readonly int _replyBytes;

    public RecordingServer(Socket listener, IPEndPoint endpoint, int replyBytes = 0)
    {
        _listener = listener;
        _replyBytes = replyBytes;
        if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
        {
            _listener.DualMode = false;
        }

        _listener.Bind(endpoint);
        _listener.Listen(256);
        _ = AcceptAsync();
    }

    /// <summary>The next connection accepted (waits up to <paramref name="timeout"/>).</summary>
    public async Task<RecordedConnection> NextAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        return await _accepted.Reader.ReadAsync(deadline.Token);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var connection = new RecordedConnection();
            _accepted.Writer.TryWrite(connection);
            _ = ServeAsync(socket, connection);
        }
    }

    private async Task ServeAsync(Socket socket, RecordedConnection connection)
    {
        try
        {
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token)) > 0)
            {
                connection.Add(buffer.AsSpan(0, n));
            }

            var left = _replyBytes;
            Array.Fill(buffer, (byte)'d');
            while (left > 0)
            {
                left -= await socket.SendAsync(buffer.AsMemory(0, Math.Min(left, buffer.Length)), SocketFlags.None, _stop.Token);
            }

            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Reset or stopped: what arrived until then is what counts.
        }
        finally
        {
            socket.Dispose();
            connection.Ended.TrySetResult();
        }
    }
}
