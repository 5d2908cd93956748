using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// Lets one cleartext listener (the unix socket) speak both HTTP/1.1 (curl, Connect and gRPC-Web clients) and HTTP/2
/// with prior knowledge (gRPC, Connect over h2). Kestrel 10 picks HTTP/1.1 for every cleartext connection of an
/// endpoint that allows both, because without TLS there is no ALPN to choose by. This connection middleware reads the
/// first bytes without consuming them: a connection that opens with the HTTP/2 preface is marked as if ALPN had chosen
/// <c>h2</c>, which is the one input Kestrel's protocol choice honours; every other connection is left to HTTP/1.1.
/// </summary>
/// <remarks>
/// The marker features claim TLS to Kestrel's protocol selection only; no handshake feature is set, so Kestrel's
/// HTTP/2 TLS checks (which look at the handshake) stay off. The request scheme then comes from the client's
/// <c>:scheme</c>, which is why the server must allow alternate schemes (<see cref="ControlApi.Listen"/> sets it).
/// </remarks>
internal static class CleartextProtocolDetection
{
    /// <summary>How long a new connection may stay silent before it is closed: a client always speaks first.</summary>
    private static readonly TimeSpan FirstBytesTimeout = TimeSpan.FromSeconds(30);

    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>Serves HTTP/1.1 and prior-knowledge HTTP/2 on this cleartext endpoint.</summary>
    public static ListenOptions UseHttp1AndPriorKnowledgeHttp2(this ListenOptions listen)
    {
        listen.Protocols = HttpProtocols.Http1AndHttp2;
        listen.Use(next => async connection =>
        {
            bool? http2;
            try
            {
                http2 = await StartsWithPrefaceAsync(connection);
            }
            catch (OperationCanceledException)
            {
                connection.Abort(new ConnectionAbortedException("the client sent nothing"));
                return;
            }

            if (http2 is null)
            {
                return; // closed before a request
            }

            if (http2 == true)
            {
                connection.Features.Set<ITlsConnectionFeature>(new NoClientCertificate());
                connection.Features.Set<ITlsApplicationProtocolFeature>(new H2Selected());
            }

            await next(connection);
        });
        return listen;
    }

    /// <summary>True for the HTTP/2 preface, false for anything else, null when the peer closed first. Consumes nothing.</summary>
    private static async Task<bool?> StartsWithPrefaceAsync(ConnectionContext connection)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(FirstBytesTimeout);
        var input = connection.Transport.Input;
        while (true)
        {
            var read = await input.ReadAsync(timeout.Token);
            var buffer = read.Buffer;
            var decided = Classify(buffer);
            if (decided is not null || read.IsCompleted)
            {
                // Nothing consumed and nothing examined: Kestrel's own first read sees the same bytes at once.
                input.AdvanceTo(buffer.Start);
                return decided ?? (buffer.IsEmpty ? null : false);
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool? Classify(ReadOnlySequence<byte> buffer)
    {
        var length = (int)Math.Min(buffer.Length, Preface.Length);
        Span<byte> head = stackalloc byte[Preface.Length];
        buffer.Slice(0, length).CopyTo(head);
        if (!head[..length].SequenceEqual(Preface[..length]))
        {
            return false;
        }

        return length == Preface.Length ? true : null;
    }

    private sealed class H2Selected : ITlsApplicationProtocolFeature
    {
        public ReadOnlyMemory<byte> ApplicationProtocol { get; } = "h2"u8.ToArray();
    }

    private sealed class NoClientCertificate : ITlsConnectionFeature
    {
        public X509Certificate2? ClientCertificate { get; set; }

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);
    }
}
