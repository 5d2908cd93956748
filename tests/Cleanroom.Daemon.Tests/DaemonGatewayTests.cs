using System.Net;
using Cleanroom.Daemon.Events;
using Cleanroom.Daemon.Executions;
using Cleanroom.Daemon.Hosting;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Guest;
using Cleanroom.Gateway.Server;
using Cleanroom.Network.Dns;
using Cleanroom.Oci;
using Cleanroom.Policy;
using Cleanroom.Vm.Doctor;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The daemon's side of the gateway: when it runs, what executions get from it, and where its refusals go (the real
/// event store and audit log in a temporary state directory).
/// </summary>
public sealed class DaemonGatewayTests : IDisposable
{
    private const string Image = "ghcr.io/buildkite/cleanroom-base/debian@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private readonly string _dir = Directory.CreateTempSubdirectory("cr-gateway-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static NetworkPolicy Compile(string allow)
    {
        var yaml = $"version: 1\nsandbox:\n  image:\n    ref: {Image}\n  network:\n    allow: {allow}\n";
        var result = PolicyCompiler.Compile(yaml, "test.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        return result.Policy!.Network;
    }

    [Fact]
    public void The_gateways_variables_go_under_the_images_and_the_requests()
    {
        var gateway = GatewayEnvironment.For(Compile("[github.com:443]"), allowAll: false);
        var image = new RunDefaults { Env = ["PATH=/usr/bin", "GIT_CONFIG_COUNT=0"] };

        var env = ExecDefaults.Env(["CLEANROOM_GATEWAY_URL=http://elsewhere:1", "A=b"], image, gateway);

        Assert.Equal(
        [
            "CLEANROOM_GATEWAY_URL=http://elsewhere:1", // the request wins
            "PATH=/usr/bin",
            "GIT_CONFIG_COUNT=1",                      // the image's none plus the gateway's one (GitConfigMergeTests)
            "A=b",
            "GIT_CONFIG_KEY_0=url.http://gateway.cleanroom.internal:8170/git/github.com/.insteadOf",
            "GIT_CONFIG_VALUE_0=https://github.com/",
        ],
            env);

        // A job that wants git to go direct says so.
        Assert.DoesNotContain(ExecDefaults.Env(["CLEANROOM_GATEWAY_GIT=off"], image, gateway), e => e.StartsWith("GIT_CONFIG_KEY_", StringComparison.Ordinal));
        Assert.Equal(["PATH=/usr/bin", "GIT_CONFIG_COUNT=0", "A=b"], ExecDefaults.Env(["A=b"], image)); // no gateway, as before
    }

    [Fact]
    public void The_firewall_redirects_the_port_the_guests_are_told_about()
    {
        Assert.Equal(GatewayOptions.GuestPort, Cleanroom.Network.NetworkOptions.GatewayGuestPort);
        Assert.StartsWith($"http://{GatewayOptions.GuestHostName}:{GatewayOptions.GuestPort}", GatewayEnvironment.BaseUrl, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DaemonNetworkMode.Auto, CheckStatus.Warn, "sandboxes have no network")]
    [InlineData(DaemonNetworkMode.Off, CheckStatus.Pass, "turned off (--gateway off)")]
    public async Task Without_a_network_the_gateway_does_not_run_and_executions_get_nothing_from_it(DaemonNetworkMode mode, CheckStatus status, string reason)
    {
        await using var parts = new Parts(_dir, mode);
        await parts.Network.StartAsync(CancellationToken.None);

        await parts.Gateway.StartAsync(CancellationToken.None);

        Assert.False(parts.Gateway.IsRunning);
        Assert.Empty(parts.Gateway.Statistics());
        Assert.Empty(parts.Gateway.Endpoints);
        Assert.Empty(parts.Gateway.Environment(Compile("[github.com:443]"), allowAll: false));
        var check = Assert.Single(parts.Gateway.Checks());
        Assert.Equal(("network.gateway", status), (check.Name, check.Status));
        Assert.Contains(reason, check.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_dir, "cache"), check.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_gateway_on_and_no_network_the_daemon_refuses_to_start()
    {
        await using var parts = new Parts(_dir, DaemonNetworkMode.On);
        await parts.Network.StartAsync(CancellationToken.None);

        var error = await Assert.ThrowsAsync<DaemonException>(() => parts.Gateway.StartAsync(CancellationToken.None));

        Assert.Contains("--gateway on", error.Message, StringComparison.Ordinal);
        Assert.False(parts.Gateway.IsRunning);
    }

    [Theory]
    [InlineData(DaemonNetworkMode.Auto)]
    [InlineData(DaemonNetworkMode.On)]
    public async Task A_gateway_that_cannot_start_takes_the_redirect_out_and_under_on_stops_the_daemon(DaemonNetworkMode mode)
    {
        await using var parts = new Parts(_dir, mode);
        using var holder = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0); // someone else holds the port
        holder.Start();
        var withdrawn = 0;

        var start = parts.Gateway.StartAsync(
            new Directory1(IPAddress.Parse("10.213.0.2"), new DnsClient("sb-a", NetworkPolicy.DenyAll, AllowAll: false)),
            (IPEndPoint)holder.LocalEndpoint,
            _ => { withdrawn++; return Task.CompletedTask; },
            CancellationToken.None);

        if (mode == DaemonNetworkMode.On)
        {
            var error = await Assert.ThrowsAsync<DaemonException>(() => start);
            Assert.Contains("--gateway on, but the host gateway cannot run: it could not start", error.Message, StringComparison.Ordinal);
        }
        else
        {
            await start;
            var check = Assert.Single(parts.Gateway.Checks());
            Assert.Equal(CheckStatus.Warn, check.Status);
            Assert.Contains("it could not start", check.Message, StringComparison.Ordinal);
        }

        Assert.Equal(1, withdrawn);
        Assert.False(parts.Gateway.IsRunning);
        Assert.Empty(parts.Gateway.Environment(Compile("[github.com:443]"), allowAll: false));
    }

    [Fact]
    public async Task The_registry_credentials_file_reaches_the_gateway_and_doctor_names_it()
    {
        var config = Path.Combine(_dir, "docker-config.json");
        await File.WriteAllTextAsync(config, "{\"auths\": {}}");
        await using var parts = new Parts(_dir, DaemonNetworkMode.On, config);

        await parts.Gateway.StartAsync(
            new Directory1(IPAddress.Parse("10.213.0.2"), new DnsClient("sb-a", NetworkPolicy.DenyAll, AllowAll: false)),
            new IPEndPoint(IPAddress.Loopback, 0),
            _ => Task.CompletedTask,
            CancellationToken.None);

        Assert.True(parts.Gateway.IsRunning);
        var check = Assert.Single(parts.Gateway.Checks());
        Assert.Contains("registry credentials from " + config, check.Message, StringComparison.Ordinal);
        Assert.Contains(parts.Gateway.Statistics(), c => c.Route == "registry");
    }

    [Fact]
    public async Task Refusals_become_escaped_bounded_denials_of_their_sandbox()
    {
        using var events = new SandboxEventStore(Path.Combine(_dir, "events.db"));
        using var audit = new EgressAuditLog(_dir, events);
        var sink = new GatewayAuditSink(audit);
        var when = DateTimeOffset.UtcNow;

        sink.Refused(new GatewayRefusal("sb-a", when, "git", "evil.test", "/git/evil.test/x\u001b[2J\n", "host_not_allowed"));
        sink.Refused(new GatewayRefusal("sb-a", when, "git", "long.test", "/" + new string('a', 10_000), "Not A Code\n"));
        sink.Refused(new GatewayRefusal("", when, "", "", "/", "unknown_sandbox")); // nobody to attribute it to

        var recorded = events.List("sb-a");
        Assert.Equal(2, recorded.Count);
        Assert.All(recorded, e => Assert.Equal((GatewayOptions.GuestPort, "gateway"), (e.Port, e.Protocol)));
        Assert.StartsWith("evil.test /git/evil.test/x", recorded[0].Destination, StringComparison.Ordinal);
        Assert.DoesNotContain(recorded[0].Destination, c => char.IsControl(c));
        Assert.Equal("host_not_allowed", recorded[0].Reason);
        Assert.True(recorded[1].Destination.Length < 600, $"{recorded[1].Destination.Length} characters");
        Assert.Equal("unknown", recorded[1].Reason);
        var lines = await File.ReadAllLinesAsync(audit.FilePath);
        Assert.Equal(2, lines.Length);
        Assert.DoesNotContain(lines, line => line.Contains('\u001b', StringComparison.Ordinal));
        Assert.Contains("\"protocol\":\"gateway\"", lines[0], StringComparison.Ordinal);
        Assert.Empty(events.List(""));
    }

    [Fact]
    public void A_request_belongs_to_the_sandbox_whose_guest_owns_its_source_address()
    {
        var policy = Compile("[github.com:443]");
        var directory = new Directory1(IPAddress.Parse("10.213.0.2"), new DnsClient("sb-a", policy, AllowAll: true));
        var clients = new GatewayClients(directory);

        Assert.Equal(new GatewayClient("sb-a", policy, AllowAll: true), clients.Find(IPAddress.Parse("10.213.0.2")));
        Assert.Null(clients.Find(IPAddress.Parse("10.213.0.6")));
    }

    /// <summary>A directory of one guest, standing in for the live sandbox networks.</summary>
    private sealed class Directory1(IPAddress address, DnsClient client) : IDnsClientDirectory
    {
        public DnsClient? Find(IPAddress source) => source.Equals(address) ? client : null;
    }

    /// <summary>A network (off: this test process is not a daemon) and the gateway on top of it, in a state directory.</summary>
    private sealed class Parts : IAsyncDisposable
    {
        private readonly SandboxEventStore _events;
        private readonly ContentCache _cache;

        public Parts(string dir, DaemonNetworkMode gateway, string? registryAuth = null)
        {
            var options = new DaemonOptions
            {
                SocketPath = Path.Combine(dir, "sock"),
                StateDir = dir,
                Network = DaemonNetworkMode.Off,
                Gateway = gateway,
                GatewayRegistryAuthFile = registryAuth,
            };
            _events = new SandboxEventStore(Path.Combine(dir, "events.db"));
            _cache = new ContentCache(new ContentCacheOptions { RootDirectory = Path.Combine(dir, "cache") });
            Network = new DaemonNetwork(options, _events, NullLoggerFactory.Instance);
            Gateway = new DaemonGateway(options, Network, _cache, NullLoggerFactory.Instance);
        }

        public DaemonNetwork Network { get; }

        public DaemonGateway Gateway { get; }

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Gateway.DisposeAsync(); // twice is harmless
            await Network.DisposeAsync();
            _cache.Dispose();
            _events.Dispose();
        }
    }
}
