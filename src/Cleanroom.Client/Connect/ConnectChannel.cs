using Google.Protobuf;

namespace Cleanroom.Client.Connect;

/// <summary>
/// Connect-protocol calls on HTTP/1.1 to a daemon on a unix socket, for the calls that stream a command's output.
/// Over gRPC (HTTP/2) the daemon may send frames of at most 16 KiB (SocketsHttpHandler does not raise
/// SETTINGS_MAX_FRAME_SIZE), and each is handed from the connection's reader to the call's through another thread:
/// about 4,000 hand-offs per 64 MiB of output, most of the CLI's CPU. gRPC-Web on HTTP/1.1 fares little better, as the
/// daemon writes its body in 4 KiB chunks. The daemon writes each Connect message as one chunk, which the handler
/// reads straight into the message's buffer (bench/bench.py throughput).
/// </summary>
public sealed class ConnectChannel : IDisposable
{
    private readonly HttpClient _http;

    private ConnectChannel(HttpClient http) => _http = http;

    /// <summary>A channel for a unix-socket endpoint; null for others (their output streams go over gRPC).</summary>
    public static ConnectChannel? ForUnixSocket(DaemonEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.SocketPath is not { } socketPath)
        {
            return null;
        }

        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = DaemonChannel.ConnectTimeout,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectCallback = (_, cancellationToken) => DaemonChannel.ConnectUnixAsync(socketPath, cancellationToken),
        };

        // A command's output may stream for hours: no overall timeout, only the caller's cancellation.
        return new ConnectChannel(new HttpClient(handler) { BaseAddress = new Uri("http://localhost"), Timeout = Timeout.InfiniteTimeSpan });
    }

    /// <summary>A server-streaming call to <c>/package.Service/Method</c>; sent at the stream's first MoveNext.</summary>
    public ConnectStreamingCall<TResponse> ServerStream<TResponse>(string procedure, IMessage request, MessageParser<TResponse> parser, CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse> =>
        new(_http, procedure, request, parser, cancellationToken);

    /// <summary>Closes the connections.</summary>
    public void Dispose() => _http.Dispose();
}
