using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;

namespace Cleanroom.Network.Tests.Guard.Support;

/// <summary>
/// A server on loopback playing the guest's original destination. Each connection optionally sends a banner first
/// (server speaks first), optionally does a TLS handshake with a self-signed certificate, then answers every line with
/// the line in upper case until the client closes its half, then closes. What each connection received in all is
/// recorded, so a test can see that a refused guest's bytes never arrived.
/// </summary>
internal sealed class LoopbackUpstream : IDisposable
{
    private static readonly Lazy<X509Certificate2> Certificate = new(CreateCertificate);
    private readonly Socket _listener;
    private readonly Channel<byte[]> _closed = Channel.CreateUnbounded<byte[]>();
    private readonly CancellationTokenSource _stop = new();

    /// <param name="listener">A socket to listen on (a test makes one in a namespace); a new one otherwise.</param>
    /// <param name="endpoint">Where to listen; an ephemeral loopback port otherwise.</param>
    public LoopbackUpstream(bool tls = false, string? banner = null, Socket? listener = null, IPEndPoint? endpoint = null)
    {
        _listener = listener ?? new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(endpoint ?? new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Endpoint = (IPEndPoint)_listener.LocalEndPoint!;
        _ = AcceptAsync(tls, banner);
    }

    public IPEndPoint Endpoint { get; }

    /// <summary>A guest's certificate check that trusts exactly this test's self-signed certificate.</summary>
    public static bool IsTestCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        certificate is not null && certificate.GetCertHashString() == Certificate.Value.GetCertHashString();

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    private int _accepted;

    /// <summary>Waits for the next connection to end; returns the bytes it received (for TLS: the decrypted ones).</summary>
    public async Task<byte[]> NextClosedAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        return await _closed.Reader.ReadAsync(deadline.Token);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _stop.Dispose();
    }

    private async Task AcceptAsync(bool tls, string? banner)
    {
        while (!_stop.IsCancellationRequested)
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

            Interlocked.Increment(ref _accepted);
            _ = ServeAsync(socket, tls, banner);
        }
    }

    private async Task ServeAsync(Socket socket, bool tls, string? banner)
    {
        var received = new MemoryStream();
        try
        {
            Stream stream = new NetworkStream(socket, ownsSocket: true);
            if (tls)
            {
                var ssl = new SslStream(stream);
                await ssl.AuthenticateAsServerAsync(Certificate.Value);
                stream = ssl;
            }

            if (banner is not null)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(banner));
            }

            var line = new List<byte>();
            var buffer = new byte[4096];
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                received.Write(buffer, 0, n);
                for (var i = 0; i < n; i++)
                {
                    var b = buffer[i];
                    line.Add(b);
                    if (b == (byte)'\n')
                    {
                        await stream.WriteAsync(Encoding.ASCII.GetBytes(Encoding.ASCII.GetString([.. line]).ToUpperInvariant()));
                        line.Clear();
                    }
                }
            }

            await stream.DisposeAsync();
        }
        catch (Exception e) when (e is IOException or SocketException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
        {
            // Reset by the guard: what arrived until then is what counts.
        }
        finally
        {
            socket.Dispose();
            _closed.Writer.TryWrite(received.ToArray());
        }
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=upstream.test", key, HashAlgorithmName.SHA256);
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Re-imported so the private key is usable by SslStream on Linux.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }
}
