using System.Text.Json;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The connect-node client (tests/conformance, generated from our .protos by buf and protoc-gen-es) calls the daemon's
/// socket in Connect JSON (HTTP/1.1), Connect binary (HTTP/2), gRPC and gRPC-Web: a unary call, a server stream and an
/// error, each in all four.
/// </summary>
public sealed class NodeConformanceTests
{
    private const string Unknown = "01kr7p9ksmfa7rmyypyqw2w8r0";
    private const int NotFound = 5;

    [NodeFact]
    public async Task Connect_node_calls_the_daemon_in_every_protocol()
    {
        var dir = NodeTools.ConformanceDirectory();
        // Installed by scripts/test.sh, so the test itself reaches no registry.
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules")), $"{dir}/node_modules is missing: run scripts/build-conformance-client.sh");

        await NodeTools.RunAsync(dir, TimeSpan.FromMinutes(2), "npm", "run", "--silent", "generate");
        await using var host = await ControlApiHost.StartAsync();
        var sandbox = await host.Harness.CreateAsync();

        var output = await NodeTools.RunAsync(dir, TimeSpan.FromMinutes(1), "node", "client.mjs", host.SocketPath, sandbox.Id, Unknown);

        var results = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["connect-json-http1", "connect-proto-http2", "grpc-http2", "grpc-web-http1"], results.Select(r => r.GetProperty("transport").GetString()));
        foreach (var result in results)
        {
            var name = result.GetProperty("transport").GetString()!;
            Assert.False(result.TryGetProperty("failed", out var failed), $"{name}: {failed}");
            Assert.Equal([sandbox.Id], result.GetProperty("unary").EnumerateArray().Select(e => e.GetString()));
            Assert.Contains("READY", result.GetProperty("stream").EnumerateArray().Select(e => e.GetString()));
            var error = result.GetProperty("error");
            Assert.Equal(NotFound, error.GetProperty("code").GetInt32());
            Assert.StartsWith("sandbox_not_found: ", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            if (name.StartsWith("connect", StringComparison.Ordinal))
            {
                Assert.Equal(["sandbox_not_found"], error.GetProperty("reasons").EnumerateArray().Select(e => e.GetString()));
            }
        }
    }
}
