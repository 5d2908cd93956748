using System.Net;
using System.Net.Sockets;
using Cleanroom.Client;

namespace Cleanroom.ControlApi.Bench;

/// <summary>
/// One way to reach the daemon (its unix socket, or its https listener trusting the generated certificate), with an
/// HttpClient per HTTP version for the hand-written Connect and gRPC-Web calls and the SDK's gRPC connection.
/// </summary>
internal sealed class Transport : IDisposable
{
    private Transport(string name, DaemonEndpoint endpoint, DaemonTls tls)
    {
        Name = name;
        Http1 = Client(endpoint, tls, HttpVersion.Version11);
        Http2 = Client(endpoint, tls, HttpVersion.Version20);
        Grpc = DaemonConnection.Open(endpoint, tls);
    }

    public string Name { get; }

    public HttpClient Http1 { get; }

    public HttpClient Http2 { get; }

    public DaemonConnection Grpc { get; }

    public static Transport Unix(string socketPath) => new("unix", DaemonEndpoint.ForSocket(socketPath), DaemonTls.Default);

    public static Transport Https(Uri address, string certificatePath) =>
        new("https", DaemonEndpoint.Parse(address.GetLeftPart(UriPartial.Authority)), new DaemonTls { CaFile = certificatePath });

    public HttpClient Http(Version version) => version == HttpVersion.Version11 ? Http1 : Http2;

    public void Dispose()
    {
        Http1.Dispose();
        Http2.Dispose();
        Grpc.Dispose();
    }

    private static HttpClient Client(DaemonEndpoint endpoint, DaemonTls tls, Version version)
    {
        var handler = new SocketsHttpHandler { UseProxy = false, PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan };
        if (endpoint.SocketPath is { } socket)
        {
            handler.ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct);
                    return new NetworkStream(s, ownsSocket: true);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            };
        }

        var address = endpoint.Address ?? new Uri("http://localhost");
        if (address.Scheme == "https")
        {
            handler.SslOptions = tls.ClientOptions(address.IdnHost);
        }

        return new HttpClient(handler)
        {
            BaseAddress = address,
            DefaultRequestVersion = version,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromMinutes(2),
        };
    }
}
