using System.Net.Sockets;
using Grpc.Net.Client;

namespace Cleanroom.Client;

/// <summary>Creates the gRPC channel to a daemon endpoint.</summary>
public static class DaemonChannel
{
    // A daemon that does not accept within this time is as good as absent; fail with a clear line instead of hanging.
    internal static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The channel, with the system roots and no client certificate for an https endpoint.</summary>
    public static GrpcChannel Create(DaemonEndpoint endpoint) => Create(endpoint, DaemonTls.Default);

    /// <summary>The channel; an https endpoint handshakes as <paramref name="tls"/> says (HTTP/2 chosen by ALPN).</summary>
    /// <exception cref="DaemonTlsException">The TLS files of an https endpoint cannot be used.</exception>
    public static GrpcChannel Create(DaemonEndpoint endpoint, DaemonTls tls)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(tls);
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = ConnectTimeout,
            // Streams of a long exec must not be cut by HTTP/2 idle or lifetime limits.
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            // An exec keeps a stream open while stdin writes and signals go out beside it; should the daemon's
            // per-connection stream limit ever be reached, open another connection instead of queueing calls.
            EnableMultipleHttp2Connections = true,
        };

        if (endpoint.SocketPath is { } socketPath)
        {
            handler.ConnectCallback = (_, cancellationToken) => ConnectUnixAsync(socketPath, cancellationToken);
        }

        if (endpoint.Address is { Scheme: "https" } https)
        {
            handler.SslOptions = tls.ClientOptions(https.IdnHost);
        }

        // Grpc.Net.Client asks for HTTP/2 exactly, which on a plain-http address means prior knowledge (h2c), which
        // the daemon's cleartext listeners detect; over https ALPN offers h2.
        var address = endpoint.Address ?? new Uri("http://localhost");
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
        });
    }

    internal static async ValueTask<Stream> ConnectUnixAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
