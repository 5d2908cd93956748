using System.Text.Json;
using Cleanroom.Api.V1;
using Cleanroom.Client;
using Cleanroom.Daemon.Hosting;
using Cleanroom.TestSupport;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The connect-node client (tests/conformance, generated from our .protos by buf and protoc-gen-es) calls the daemon in
/// Connect JSON (HTTP/1.1), Connect binary (HTTP/2), Connect with GET and gzip (HTTP/1.1), gRPC and gRPC-Web: a unary
/// call, a server stream and an error, each in all five; over the unix socket, and over an https listener that
/// requires a client certificate (mTLS), where a certificate from another CA, or none, is refused.
/// </summary>
public sealed class NodeConformanceTests(ConformanceClient client) : IClassFixture<ConformanceClient>
{
    private const string Unknown = "01kr7p9ksmfa7rmyypyqw2w8r0";
    private const int NotFound = 5;
    private const int Canceled = 1;
    private const int Aborted = 10;
    private const int Internal = 13;
    private const int Unavailable = 14;

    private static readonly string[] Protocols = ["connect-json-http1", "connect-proto-http2", "connect-get-gzip-http1", "grpc-http2", "grpc-web-http1"];

    [NodeFact]
    public async Task Connect_node_calls_the_daemon_in_every_protocol()
    {
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        var results = await client.RunAsync("--socket", host.SocketPath, sandbox.Id, Unknown);

        AssertServed(results, sandbox.Id);
    }

    [NodeFact]
    public async Task Connect_node_calls_an_https_listener_with_a_client_certificate_in_every_protocol()
    {
        using var tls = new MutualTls();
        await using var host = await ControlApiHost.StartAsync(tls.Listen);
        var sandbox = await host.Harness.CreateAsync();

        var results = await client.RunAsync("--url", MutualTls.Url(host), "--ca", tls.ServerCa, "--cert", tls.GoodCert, "--key", tls.GoodKey, sandbox.Id, Unknown);

        AssertServed(results, sandbox.Id);
    }

    [NodeFact]
    public async Task Connect_node_with_a_client_certificate_from_another_ca_or_none_is_refused_in_every_protocol()
    {
        using var tls = new MutualTls();
        await using var host = await ControlApiHost.StartAsync(tls.Listen);
        var sandbox = await host.Harness.CreateAsync();

        var stranger = await client.RunAsync("--url", MutualTls.Url(host), "--ca", tls.ServerCa, "--cert", tls.StrangerCert, "--key", tls.StrangerKey, sandbox.Id, Unknown);
        var anonymous = await client.RunAsync("--url", MutualTls.Url(host), "--ca", tls.ServerCa, sandbox.Id, Unknown);

        foreach (var results in new[] { stranger, anonymous })
        {
            Assert.Equal(Protocols, results.Select(r => r.GetProperty("transport").GetString()));
            foreach (var result in results)
            {
                var name = result.GetProperty("transport").GetString();
                Assert.False(result.TryGetProperty("unary", out _), $"{name} was served: {result}");
                var failed = result.GetProperty("failed");
                // The TLS 1.3 client finishes its side of the handshake first; the daemon's refusal then arrives as an
                // alert or a closed connection, which connect-node reports as a failed connection ("socket hang up",
                // aborted, over HTTP/1.1; "http/2 stream closed with error code CANCEL", canceled, over HTTP/2), not
                // as an answer from the API.
                Assert.True(failed.GetProperty("code").GetInt32() is Canceled or Aborted or Internal or Unavailable, $"{name}: {failed}\n{string.Join('\n', results)}");
            }
        }

        // The daemon keeps serving the client it trusts, and that call is the first to reach a service: none of the
        // refused ones did.
        using var trusted = DaemonConnection.Open(DaemonEndpoint.Parse(MutualTls.Url(host)), new DaemonTls { CaFile = tls.ServerCa, CertFile = tls.GoodCert, KeyFile = tls.GoodKey });
        var list = await trusted.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest());
        Assert.Equal(sandbox.Id, Assert.Single(list.Sandboxes).SandboxId);
        Assert.Equal("/cleanroom.v1.SandboxService/ListSandboxes", (await host.Calls.NextEndedAsync()).Method);
    }

    private static void AssertServed(List<JsonElement> results, string sandboxId)
    {
        Assert.Equal(Protocols, results.Select(r => r.GetProperty("transport").GetString()));
        foreach (var result in results)
        {
            var name = result.GetProperty("transport").GetString()!;
            Assert.False(result.TryGetProperty("failed", out var failed), $"{name}: {failed}");
            Assert.Equal([sandboxId], result.GetProperty("unary").EnumerateArray().Select(e => e.GetString()));
            Assert.Contains("READY", result.GetProperty("stream").EnumerateArray().Select(e => e.GetString()));
            var error = result.GetProperty("error");
            Assert.Equal(NotFound, error.GetProperty("code").GetInt32());
            Assert.StartsWith("sandbox_not_found: ", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            if (name.StartsWith("connect", StringComparison.Ordinal))
            {
                Assert.Equal(["sandbox_not_found"], error.GetProperty("reasons").EnumerateArray().Select(e => e.GetString()));
            }

            if (name == "connect-get-gzip-http1")
            {
                AssertGetAndGzip(result.GetProperty("wire"));
            }
        }
    }

    /// <summary>
    /// What connect-node sent and got for the GET + gzip transport: the side-effect-free unary calls went as GET (the
    /// non-empty GetSandbox message gzipped in the query), the stream as a POST whose request and answer say gzip.
    /// </summary>
    private static void AssertGetAndGzip(JsonElement wire)
    {
        var calls = wire.EnumerateArray().ToList();
        Assert.Equal(3, calls.Count);
        var (list, stream, get) = (calls[0], calls[1], calls[2]);

        Assert.Equal(("GET", 200), (list.GetProperty("method").GetString(), list.GetProperty("status").GetInt32()));
        Assert.Contains("encoding", list.GetProperty("query").EnumerateArray().Select(e => e.GetString()));

        Assert.Equal(("POST", 200), (stream.GetProperty("method").GetString(), stream.GetProperty("status").GetInt32()));
        Assert.Equal("gzip", stream.GetProperty("sent").GetString());
        Assert.Equal("gzip", stream.GetProperty("received").GetString());

        Assert.Equal(("GET", 404), (get.GetProperty("method").GetString(), get.GetProperty("status").GetInt32()));
        var query = get.GetProperty("query").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(["connect", "base64", "compression", "encoding", "message"], query);
    }

    /// <summary>
    /// A server certificate from one CA, client certificates from a second (the one <c>--tls-client-ca</c> names) and
    /// from a third that the daemon does not trust, as PEM files; and the daemon's options for an https listener on a
    /// free loopback port that requires a client certificate.
    /// </summary>
    private sealed class MutualTls : IDisposable
    {
        private readonly TemporaryDirectory _dir = new("cr-node-tls-");
        private readonly string _serverCert;
        private readonly string _serverKey;
        private readonly string _clientCa;

        public MutualTls()
        {
            using var serverCa = TestCertificates.Ca("server ca");
            using var clientCa = TestCertificates.Ca("client ca");
            using var otherCa = TestCertificates.Ca("other ca");
            using var server = TestCertificates.Server(serverCa);
            using var good = TestCertificates.Client(clientCa, "node client");
            using var stranger = TestCertificates.Client(otherCa, "stranger");
            (_serverCert, _serverKey) = TestCertificates.WritePem(server, _dir.Path, "server");
            ServerCa = TestCertificates.WritePem(serverCa, _dir.Path, "server-ca").Cert;
            _clientCa = TestCertificates.WritePem(clientCa, _dir.Path, "client-ca").Cert;
            (GoodCert, GoodKey) = TestCertificates.WritePem(good, _dir.Path, "good");
            (StrangerCert, StrangerKey) = TestCertificates.WritePem(stranger, _dir.Path, "stranger");
        }

        public string ServerCa { get; }

        public string GoodCert { get; }

        public string GoodKey { get; }

        public string StrangerCert { get; }

        public string StrangerKey { get; }

        /// <summary>As <c>--listen https://127.0.0.1:0 --tls-cert --tls-key --tls-client-ca</c>.</summary>
        public DaemonOptions Listen(DaemonOptions options) => options with
        {
            Listeners = [ListenerSpec.Parse("https://127.0.0.1:0")],
            TlsCertFile = _serverCert,
            TlsKeyFile = _serverKey,
            TlsClientCaFile = _clientCa,
        };

        public static string Url(ControlApiHost host) => Assert.Single(host.NetworkAddresses).GetLeftPart(UriPartial.Authority);

        public void Dispose() => _dir.Dispose();
    }
}
