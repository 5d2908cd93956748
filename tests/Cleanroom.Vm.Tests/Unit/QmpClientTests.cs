using Cleanroom.Vm.Qemu.Qmp;
using Cleanroom.Vm.Tests.Support;

namespace Cleanroom.Vm.Tests.Unit;

public sealed class QmpClientTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Negotiates_capabilities_and_reads_the_version()
    {
        await using var server = new FakeQmpServer(Sock(), peer => peer.HandshakeAsync());
        await using var client = await QmpClient.ConnectAsync(server.Path, Timeout, CancellationToken.None);
        Assert.Equal("7.2.22", client.QemuVersion);
        await server.DisposeAsync();
        Assert.Equal(["""{"execute":"qmp_capabilities"}"""], server.Received);
    }

    [Fact]
    public async Task Query_status_skips_interleaved_events()
    {
        await using var server = new FakeQmpServer(Sock(), async peer =>
        {
            await peer.HandshakeAsync();
            await peer.ReceiveAsync();
            await peer.SendAsync("""{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RTC_CHANGE", "data": {"offset": 0}}""");
            await peer.SendAsync("""{"return": {"status": "running", "singlestep": false, "running": true}}""");
        });
        await using var client = await QmpClient.ConnectAsync(server.Path, Timeout, CancellationToken.None);
        var status = await client.QueryStatusAsync(CancellationToken.None);
        Assert.Equal(new QmpStatus("running", true), status);
    }

    [Fact]
    public async Task Error_replies_become_exceptions_with_the_class()
    {
        await using var server = new FakeQmpServer(Sock(), async peer =>
        {
            await peer.HandshakeAsync();
            await peer.ReceiveAsync();
            await peer.SendAsync("""{"error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}""");
        });
        await using var client = await QmpClient.ConnectAsync(server.Path, Timeout, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<QmpException>(() => client.ExecuteAsync("nope", CancellationToken.None));
        Assert.Equal("CommandNotFound", ex.ErrorClass);
        Assert.Contains("has not been found", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_line_longer_than_the_limit_is_refused()
    {
        await using var server = new FakeQmpServer(Sock(), async peer =>
        {
            await peer.SendRawAsync(new byte[QmpClient.MaxLineBytes + 10]); // no newline, ever
            await peer.ReceiveAsync(); // until the client gives up and hangs up
        });
        var ex = await Assert.ThrowsAsync<QmpException>(() => QmpClient.ConnectAsync(server.Path, Timeout, CancellationToken.None));
        Assert.Contains("longer than", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silent_peer_times_out()
    {
        await using var server = new FakeQmpServer(Sock(), async peer =>
        {
            await peer.HandshakeAsync();
            await peer.ReceiveAsync();
            await peer.ReceiveAsync(); // never answer; wait for the client to hang up
        });
        // Short enough to keep the test quick, long enough for the handshake on a loaded CI box.
        await using var client = await QmpClient.ConnectAsync(server.Path, TimeSpan.FromSeconds(1), CancellationToken.None);
        var ex = await Assert.ThrowsAsync<QmpException>(() => client.QueryStatusAsync(CancellationToken.None));
        Assert.Contains("did not answer 'query-status'", ex.Message, StringComparison.Ordinal);

        // The stream position is now unknown: the client refuses to continue rather than misread a late reply.
        await Assert.ThrowsAsync<QmpException>(() => client.QueryStatusAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Something_that_is_not_qmp_is_rejected()
    {
        await using var server = new FakeQmpServer(Sock(), peer => peer.SendAsync("""{"hello": "world"}"""));
        var ex = await Assert.ThrowsAsync<QmpException>(() => QmpClient.ConnectAsync(server.Path, Timeout, CancellationToken.None));
        Assert.Contains("greeting", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_json_is_a_protocol_error()
    {
        await using var server = new FakeQmpServer(Sock(), peer => peer.SendAsync("{QMP"));
        var ex = await Assert.ThrowsAsync<QmpException>(() => QmpClient.ConnectAsync(server.Path, Timeout, CancellationToken.None));
        Assert.Contains("invalid JSON", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Quit_succeeds_when_the_peer_hangs_up_without_answering()
    {
        await using var server = new FakeQmpServer(Sock(), async peer =>
        {
            await peer.HandshakeAsync();
            await peer.ReceiveAsync(); // quit, then close: what a dying QEMU may do
        });
        await using var client = await QmpClient.ConnectAsync(server.Path, Timeout, CancellationToken.None);
        await client.QuitAsync(CancellationToken.None);
        await server.DisposeAsync();
        Assert.Equal("""{"execute":"quit"}""", server.Received[^1]);
    }

    private string Sock() => _dir.Combine("qmp.sock");
}
