using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Cleanroom.Network.Guard;
using Cleanroom.Network.Tests.Guard.Support;

namespace Cleanroom.Network.Tests.Guard;

/// <summary>The guard on loopback with real sockets and real TLS; the original destination is injected (see <see cref="GuardHarness"/>).</summary>
public class ConnectionGuardTests
{
    private static readonly IPEndPoint Https = new(GuardHarness.Shared, 443);
    private static readonly IPEndPoint Http = new(GuardHarness.Shared, 80);

    [Fact]
    public async Task An_allowed_server_name_passes_and_bytes_flow_both_ways()
    {
        using var server = new LoopbackUpstream(tls: true);
        await using var harness = new GuardHarness();
        harness.Learn(Https, server);

        using var guest = await harness.DialAsync(GuardHarness.SandboxA, Https);
        await using var tls = new SslStream(new NetworkStream(guest), false, LoopbackUpstream.IsTestCertificate);
        await tls.AuthenticateAsClientAsync("allowed.test").WaitAsync(GuestIo.Timeout);
        await tls.WriteAsync("hello through the guard\n"u8.ToArray());
        var reply = new byte[64];
        var n = await tls.ReadAsync(reply).AsTask().WaitAsync(GuestIo.Timeout);

        Assert.Equal("HELLO THROUGH THE GUARD\n", Encoding.ASCII.GetString(reply, 0, n));
        Assert.Equal(1, harness.Guard.Statistics.AllowedNamed);
        Assert.Empty(harness.Audit.Drain());
    }

    [Fact]
    public async Task A_denied_server_name_on_the_same_address_is_reset_audited_and_never_reaches_the_server()
    {
        using var server = new LoopbackUpstream(tls: true);
        await using var harness = new GuardHarness();
        harness.Learn(Https, server);

        using var guest = await harness.DialAsync(GuardHarness.SandboxA, Https);
        await using var tls = new SslStream(new NetworkStream(guest), false, LoopbackUpstream.IsTestCertificate);
        await Assert.ThrowsAnyAsync<IOException>(() => tls.AuthenticateAsClientAsync("denied.test").WaitAsync(GuestIo.Timeout));

        var denial = await harness.Audit.WaitForAsync(_ => true, GuestIo.Timeout);
        Assert.Equal(new EgressDenial("sb-a", denial.Time, "denied.test", 443, "tcp", "host_not_allowed"), denial);
        Assert.Empty(await server.NextClosedAsync(GuestIo.Timeout));
        Assert.Equal(1, harness.Guard.Statistics.Denied);
    }

    [Theory]
    [InlineData("allowed.test", true)]
    [InlineData("ALLOWED.test.:80", true)]
    [InlineData("denied.test", false)]
    [InlineData("allowed.test:443", true)] // the port in Host is not the port dialled; the dialled one is checked
    public async Task The_HTTP_Host_decides_a_plain_connection(string host, bool allowed)
    {
        using var server = new LoopbackUpstream();
        await using var harness = new GuardHarness();
        harness.Learn(Http, server);

        using var guest = await harness.DialAsync(GuardHarness.SandboxA, Http);
        await GuestIo.SendAsync(guest, $"GET /x HTTP/1.1\r\nHost: {host}\r\n\r\n");
        guest.Shutdown(SocketShutdown.Send);
        var (text, reset) = await GuestIo.ReadToEndAsync(guest);

        if (allowed)
        {
            Assert.Equal("GET /X HTTP/1.1\r\nHOST: " + host.ToUpperInvariant() + "\r\n\r\n", text);
            Assert.False(reset);
            Assert.Empty(harness.Audit.Drain());
        }
        else
        {
            Assert.Equal(string.Empty, text);
            Assert.True(reset);
            Assert.Empty(await server.NextClosedAsync(GuestIo.Timeout));
            Assert.Equal("denied.test", (await harness.Audit.WaitForAsync(_ => true, GuestIo.Timeout)).Destination);
        }
    }

    [Fact]
    public async Task A_server_that_speaks_first_is_heard_before_the_guest_says_anything()
    {
        using var server = new LoopbackUpstream(banner: "SSH-2.0-Upstream_1.0\r\n");
        await using var harness = new GuardHarness();
        var ssh = new IPEndPoint(GuardHarness.Shared, 22);
        harness.Learn(ssh, server);

        using var guest = await harness.DialAsync(GuardHarness.SandboxA, ssh);
        Assert.Equal("SSH-2.0-Upstream_1.0\r\n", await GuestIo.ReadUntilAsync(guest, "\r\n"));
        await GuestIo.SendAsync(guest, "SSH-2.0-Guest_1.0\r\n");
        Assert.Equal("SSH-2.0-GUEST_1.0\r\n", await GuestIo.ReadUntilAsync(guest, "\r\n"));
        guest.Shutdown(SocketShutdown.Send);

        Assert.Equal((string.Empty, false), await GuestIo.ReadToEndAsync(guest));
        Assert.Equal(1, harness.Guard.Statistics.AllowedUnnamed);
    }

    [Fact]
    public async Task A_half_close_reaches_the_server_and_its_answer_still_reaches_the_guest()
    {
        using var server = new LoopbackUpstream();
        await using var harness = new GuardHarness();
        harness.Learn(Http, server);

        using var guest = await harness.DialAsync(GuardHarness.SandboxA, Http);
        await GuestIo.SendAsync(guest, "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\nlast line\n");
        guest.Shutdown(SocketShutdown.Send);

        var (text, reset) = await GuestIo.ReadToEndAsync(guest);
        Assert.EndsWith("LAST LINE\n", text, StringComparison.Ordinal);
        Assert.False(reset);
        Assert.EndsWith("last line\n", Encoding.ASCII.GetString(await server.NextClosedAsync(GuestIo.Timeout)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_destination_no_longer_learned_is_reset_without_connecting()
    {
        using var server = new LoopbackUpstream();
        await using var harness = new GuardHarness();
        var forgotten = new IPEndPoint(IPAddress.Parse("203.0.113.99"), 80);

        await harness.AssertResetAsync(GuardHarness.SandboxA, forgotten);

        var denial = await harness.Audit.WaitForAsync(_ => true, GuestIo.Timeout);
        Assert.Equal(("203.0.113.99", 80), (denial.Destination, denial.Port));
        Assert.Equal(0, harness.UpstreamConnects);
    }

    [Fact]
    public async Task A_learned_loopback_or_host_address_is_still_refused()
    {
        using var server = new LoopbackUpstream();
        await using var harness = new GuardHarness();
        var loopback = new IPEndPoint(IPAddress.Loopback, 80);
        harness.Learn(loopback, server);

        await harness.AssertResetAsync(GuardHarness.SandboxA, loopback);

        Assert.Equal(1, harness.Guard.Statistics.RefusedDestination);
        Assert.Equal(0, harness.UpstreamConnects);
    }

    [Fact]
    public async Task A_connection_from_an_unknown_source_is_reset_at_once()
    {
        using var server = new LoopbackUpstream();
        await using var harness = new GuardHarness();
        harness.Learn(Http, server);

        await harness.AssertResetAsync(GuardHarness.Stranger, Http);

        Assert.Equal(1, harness.Guard.Statistics.RejectedUnknownSource);
        Assert.Equal(0, harness.UpstreamConnects);
    }

    [Fact]
    public async Task A_first_message_not_finished_in_time_is_reset_and_audited()
    {
        using var server = new LoopbackUpstream(tls: true);
        await using var harness = new GuardHarness(new ConnectionGuardOptions { FirstMessageTimeout = TimeSpan.FromMilliseconds(300) });
        harness.Learn(Https, server);

        using var guest = await harness.DialAsync(GuardHarness.SandboxA, Https);
        var clock = Stopwatch.StartNew();
        await guest.SendAsync(new byte[] { 22, 3, 1, 0, 200, 1, 0 });

        Assert.Equal((string.Empty, true), await GuestIo.ReadToEndAsync(guest));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(3));
        Assert.Equal("203.0.113.10", (await harness.Audit.WaitForAsync(_ => true, GuestIo.Timeout)).Destination);
        Assert.Equal(1, harness.Guard.Statistics.RefusedUnreadable);
    }

    [Fact]
    public async Task A_first_message_longer_than_the_bound_is_reset()
    {
        using var server = new LoopbackUpstream();
        await using var harness = new GuardHarness(new ConnectionGuardOptions { MaxFirstMessageBytes = 1024 });
        harness.Learn(Http, server);

        using var guest = await harness.DialAsync(GuardHarness.SandboxA, Http);
        await GuestIo.SendAsync(guest, "GET / HTTP/1.1\r\nX-Padding: " + new string('a', 2000) + "\r\nHost: allowed.test\r\n\r\n");

        Assert.True((await GuestIo.ReadToEndAsync(guest)).Reset);
        Assert.Empty(await server.NextClosedAsync(GuestIo.Timeout));
        Assert.Equal(1, harness.Guard.Statistics.RefusedUnreadable);
    }

    [Fact]
    public async Task An_idle_connection_is_reset_after_the_idle_timeout()
    {
        using var server = new LoopbackUpstream();
        await using var harness = new GuardHarness(new ConnectionGuardOptions { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        harness.Learn(Http, server);

        using var guest = await harness.DialAsync(GuardHarness.SandboxA, Http);
        await GuestIo.SendAsync(guest, "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\nping\n");
        await GuestIo.ReadUntilAsync(guest, "PING\n");

        Assert.True((await GuestIo.ReadToEndAsync(guest)).Reset);
        Assert.Equal(1, harness.Guard.Statistics.IdleTimeouts);
    }

    [Fact]
    public async Task A_flood_of_silent_connections_is_held_to_the_per_sandbox_cap_and_others_still_get_in()
    {
        using var server = new LoopbackUpstream();
        await using var harness = new GuardHarness(new ConnectionGuardOptions { MaxConnectionsPerSandbox = 8, MaxConnections = 12, IdleTimeout = TimeSpan.FromSeconds(30) });
        harness.Learn(Http, server);

        var flood = new List<Socket>();
        for (var i = 0; i < 40; i++)
        {
            try
            {
                flood.Add(await harness.DialAsync(GuardHarness.SandboxA, Http));
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                // Over the cap: reset so fast that the connect itself reports it.
            }
        }

        await GuestIo.WaitUntilAsync(() => harness.Guard.Statistics.Accepted == 40, "all 40 were accepted");
        Assert.Equal(8, harness.Guard.Statistics.Open);
        Assert.Equal(32, harness.Guard.Statistics.RejectedOverLimit);

        using var other = await harness.DialAsync(GuardHarness.SandboxB, Http);
        await GuestIo.SendAsync(other, "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\nstill here\n");
        Assert.Contains("STILL HERE\n", await GuestIo.ReadUntilAsync(other, "STILL HERE\n"), StringComparison.Ordinal);

        foreach (var socket in flood)
        {
            socket.Dispose();
        }

        await GuestIo.WaitUntilAsync(() => harness.Guard.Statistics.Open == 1, "the flood's connections were released");
    }

    [Fact]
    public async Task Stopping_the_guard_resets_every_open_connection_promptly()
    {
        using var server = new LoopbackUpstream();
        var harness = new GuardHarness();
        harness.Learn(Http, server);
        using var guest = await harness.DialAsync(GuardHarness.SandboxA, Http);
        await GuestIo.SendAsync(guest, "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\nping\n");
        await GuestIo.ReadUntilAsync(guest, "PING\n");

        var clock = Stopwatch.StartNew();
        await harness.DisposeAsync();

        Assert.True((await GuestIo.ReadToEndAsync(guest)).Reset);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"stopping took {clock.Elapsed}");
        Assert.Equal(0, harness.Guard.Statistics.Open);
    }
}
