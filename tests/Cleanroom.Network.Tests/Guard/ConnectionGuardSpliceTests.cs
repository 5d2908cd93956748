using System.Net;
using System.Net.Sockets;
using System.Text;
using Cleanroom.Network.Guard;
using Cleanroom.Network.Tests.Guard.Support;

namespace Cleanroom.Network.Tests.Guard;

/// <summary>
/// The guard's splice(2) relay, past <see cref="ConnectionGuardOptions.SpliceAfterBytes"/>, on loopback with real
/// sockets: the test holds both the guest's socket and the upstream's accepted one, so it can drive each end.
/// </summary>
[Collection(SpliceDescriptorCounting.Name)]
public class ConnectionGuardSpliceTests
{
    private const string Request = "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n";
    private static readonly IPEndPoint Http = new(GuardHarness.Shared, 80);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Megabytes_both_ways_past_the_threshold_arrive_byte_exact_and_both_directions_are_spliced()
    {
        await using var harness = new GuardHarness();
        using var upstream = new Upstream(harness);
        var (guest, server) = await upstream.OpenAsync();
        using var _ = guest;
        using var __ = server;
        var up = Payload(8 * 1024 * 1024, 1);
        var down = Payload(8 * 1024 * 1024, 2);

        var sent = Task.WhenAll(SendAndCloseAsync(guest, up), SendAndCloseAsync(server, down));
        var (atServer, atGuest) = (ReadToEndAsync(server), ReadToEndAsync(guest));
        await sent.WaitAsync(Timeout);

        Assert.Equal(up, (await atServer.WaitAsync(Timeout)).Bytes);
        Assert.Equal(down, (await atGuest.WaitAsync(Timeout)).Bytes);
        Assert.Equal(2, harness.Guard.Statistics.SplicedDirections);
        await GuestIo.WaitUntilAsync(() => harness.Guard.Statistics.Open == 0, "the connection ended");
        Assert.Equal(0, harness.Guard.Statistics.IdleTimeouts);
    }

    [Fact]
    public async Task A_guest_that_stops_reading_holds_the_spliced_download_back_without_losing_a_byte()
    {
        await using var harness = new GuardHarness();
        using var upstream = new Upstream(harness);
        var (guest, server) = await upstream.OpenAsync();
        using var _ = guest;
        using var __ = server;
        var down = Payload(64 * 1024 * 1024, 9); // more than loopback socket buffers and the pipe hold together

        // Past the threshold, then the guest pauses: the pipe and both socket buffers fill and the relay must wait for
        // the guest's socket to take more (the writable wait), not spin or drop.
        await Task.WhenAll(SendAllAsync(server, down.AsSpan(0, 1024 * 1024).ToArray()), ReadExactlyAsync(guest, 1024 * 1024)).WaitAsync(Timeout);
        var rest = SendAndCloseAsync(server, down[(1024 * 1024)..]);
        await Task.Delay(500);
        Assert.False(rest.IsCompleted);
        var (bytes, reset) = await ReadToEndAsync(guest).WaitAsync(Timeout);
        await rest.WaitAsync(Timeout);

        Assert.False(reset);
        Assert.Equal(down[(1024 * 1024)..], bytes);
        Assert.Equal(1, harness.Guard.Statistics.SplicedDirections);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_half_close_after_switching_reaches_the_other_side_which_may_still_send(bool guestClosesFirst)
    {
        await using var harness = new GuardHarness();
        using var upstream = new Upstream(harness);
        var (guest, server) = await upstream.OpenAsync();
        using var _ = guest;
        using var __ = server;
        var (first, second) = guestClosesFirst ? (guest, server) : (server, guest);
        var bulk = Payload(2 * 1024 * 1024, 3);
        var after = Payload(2 * 1024 * 1024, 4);

        // Both directions past the threshold, then the first side closes its half.
        var crossed = Task.WhenAll(SendAllAsync(guest, bulk), SendAllAsync(server, bulk), ReadExactlyAsync(guest, bulk.Length), ReadExactlyAsync(server, bulk.Length));
        await crossed.WaitAsync(Timeout);
        await GuestIo.WaitUntilAsync(() => harness.Guard.Statistics.SplicedDirections == 2, "both directions switched");
        first.Shutdown(SocketShutdown.Send);

        Assert.Empty((await ReadToEndAsync(second).WaitAsync(Timeout)).Bytes);
        var atFirst = ReadToEndAsync(first);
        await SendAndCloseAsync(second, after).WaitAsync(Timeout);
        var (bytes, reset) = await atFirst.WaitAsync(Timeout);
        Assert.False(reset);
        Assert.Equal(after, bytes);
    }

    [Fact]
    public async Task A_spliced_connection_that_goes_idle_is_reset_after_the_idle_timeout()
    {
        await using var harness = new GuardHarness(new ConnectionGuardOptions { IdleTimeout = TimeSpan.FromMilliseconds(500) });
        using var upstream = new Upstream(harness);
        var (guest, server) = await upstream.OpenAsync();
        using var _ = guest;
        using var __ = server;
        var bulk = Payload(2 * 1024 * 1024, 5);

        await Task.WhenAll(SendAllAsync(guest, bulk), SendAllAsync(server, bulk), ReadExactlyAsync(guest, bulk.Length), ReadExactlyAsync(server, bulk.Length)).WaitAsync(Timeout);
        Assert.Equal(2, harness.Guard.Statistics.SplicedDirections);

        var (bytes, reset) = await ReadToEndAsync(guest).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Empty(bytes);
        Assert.True(reset);
        Assert.True((await ReadToEndAsync(server).WaitAsync(TimeSpan.FromSeconds(5))).Reset);
        await GuestIo.WaitUntilAsync(() => harness.Guard.Statistics.IdleTimeouts == 1, "the idle timeout was counted");
    }

    [Fact]
    public async Task An_upstream_reset_in_the_middle_of_a_spliced_download_resets_the_guest()
    {
        await using var harness = new GuardHarness();
        using var upstream = new Upstream(harness);
        var (guest, server) = await upstream.OpenAsync();
        using var _ = guest;
        var bulk = Payload(2 * 1024 * 1024, 6);

        await Task.WhenAll(SendAllAsync(server, bulk), ReadExactlyAsync(guest, bulk.Length)).WaitAsync(Timeout);
        await GuestIo.WaitUntilAsync(() => harness.Guard.Statistics.SplicedDirections == 1, "the download switched");
        await SendAllAsync(server, Payload(64 * 1024, 7));
        SocketClose.Abort(server);

        Assert.True((await ReadToEndAsync(guest).WaitAsync(Timeout)).Reset);
        await GuestIo.WaitUntilAsync(() => harness.Guard.Statistics.Open == 0, "the connection ended");
    }

    [Fact]
    public async Task Stopping_the_guard_resets_a_spliced_connection_promptly()
    {
        var harness = new GuardHarness();
        try
        {
            using var upstream = new Upstream(harness);
            var (guest, server) = await upstream.OpenAsync();
            using var _ = guest;
            using var __ = server;
            var bulk = Payload(2 * 1024 * 1024, 10);
            await Task.WhenAll(SendAllAsync(guest, bulk), SendAllAsync(server, bulk), ReadExactlyAsync(guest, bulk.Length), ReadExactlyAsync(server, bulk.Length)).WaitAsync(Timeout);
            Assert.Equal(2, harness.Guard.Statistics.SplicedDirections);

            var clock = System.Diagnostics.Stopwatch.StartNew();
            await harness.DisposeAsync();

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"stopping took {clock.Elapsed}");
            Assert.True((await ReadToEndAsync(guest).WaitAsync(Timeout)).Reset);
            Assert.Equal(0, harness.Guard.Statistics.Open);
        }
        finally
        {
            await harness.DisposeAsync();
        }
    }

    [Fact]
    public async Task Many_spliced_connections_clean_or_reset_leave_no_descriptor_open()
    {
        await using var harness = new GuardHarness(new ConnectionGuardOptions { SpliceAfterBytes = 64 * 1024 });
        using var upstream = new Upstream(harness);
        var bulk = Payload(256 * 1024, 8);
        await RunOneAsync(reset: false); // warm up whatever the runtime opens once (epoll, libc, certificates)
        await GuestIo.WaitUntilAsync(() => harness.Guard.Statistics.Open == 0, "the warm-up ended");
        var before = OpenDescriptors();
        var pipesBefore = OpenPipes();

        for (var i = 0; i < 40; i++)
        {
            await RunOneAsync(reset: i % 2 == 1);
            await GuestIo.WaitUntilAsync(() => harness.Guard.Statistics.Open == 0, "the connection ended");
            // Given at most 200 ms, not waited for at length: a pipe dropped without closing would be closed only by a
            // finalizer, much later. A direction's pipe is disposed as the connection ends, but a splice call still
            // holding its handle defers the close by moments (CI saw 13 of 11 checked at once).
            // At most as many as before, not exactly: a finalizer may close an earlier test's pipe meanwhile (CI saw 11 of 12).
            var pipesNow = await PipesSettledAsync(pipesBefore);
            Assert.True(pipesNow <= pipesBefore, $"{pipesNow} pipes open after connection {i}, {pipesBefore} before the loop");
        }

        await GuestIo.WaitUntilAsync(() => harness.Guard.Statistics.Open == 0, "every connection ended");
        Assert.Equal(82, harness.Guard.Statistics.SplicedDirections);
        await GuestIo.WaitUntilAsync(() => OpenDescriptors() <= before, $"descriptors came back to {before} (now {OpenDescriptors()})");

        async Task RunOneAsync(bool reset)
        {
            var (guest, server) = await upstream.OpenAsync();
            using (guest)
            {
                await Task.WhenAll(SendAllAsync(guest, bulk), SendAllAsync(server, bulk), ReadExactlyAsync(guest, bulk.Length), ReadExactlyAsync(server, bulk.Length)).WaitAsync(Timeout);
                await GuestIo.WaitUntilAsync(() => harness.Guard.Statistics.SplicedDirections % 2 == 0, "both directions switched");
                if (reset)
                {
                    SocketClose.Abort(server);
                    Assert.True((await ReadToEndAsync(guest).WaitAsync(Timeout)).Reset);
                    return;
                }

                using (server)
                {
                    guest.Shutdown(SocketShutdown.Send);
                    server.Shutdown(SocketShutdown.Send);
                    Assert.Empty((await ReadToEndAsync(server).WaitAsync(Timeout)).Bytes);
                    Assert.Empty((await ReadToEndAsync(guest).WaitAsync(Timeout)).Bytes);
                }
            }
        }
    }

    // Sockets, pipes and anonymous inodes (epoll, eventfd): what a connection can leak. Files are left out, because the
    // runtime maps assemblies (System.Net.NameResolution on a first reset, say) through descriptors it keeps open.
    [Fact]
    public void A_pipe_is_raised_to_a_mebibyte_and_disposing_closes_its_three_descriptors()
    {
        var (pipes, all) = (OpenPipes(), OpenDescriptors());
        var pipe = SplicePipe.TryCreate();

        Assert.NotNull(pipe);
        Assert.Equal((pipes + 2, all + 3), (OpenPipes(), OpenDescriptors()));
        Assert.Equal(SplicePipe.WantedBytes, pipe.Capacity); // root, and pipe-max-size is 1 MiB by default
        pipe.Dispose();
        Assert.Equal((pipes, all), (OpenPipes(), OpenDescriptors()));
    }

    private static int OpenDescriptors() => Describe().Count(target => !target.StartsWith('/'));

    /// <summary>The open pipes once they are down to <paramref name="expected"/>, or after 200 ms, whichever is first.</summary>
    private static async Task<int> PipesSettledAsync(int expected)
    {
        var deadline = Environment.TickCount64 + 200;
        int now;
        while ((now = OpenPipes()) > expected && Environment.TickCount64 < deadline)
        {
            await Task.Delay(1);
        }

        return now;
    }

    private static int OpenPipes() => Describe().Count(target => target.StartsWith("pipe:", StringComparison.Ordinal));

    private static string[] Describe() => [.. Directory.GetFiles("/proc/self/fd").Select(fd =>
    {
        try
        {
            return new FileInfo(fd).LinkTarget ?? "/";
        }
        catch (IOException)
        {
            return "/"; // closed while listed (the listing's own descriptor)
        }
    })];

    private static byte[] Payload(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task SendAllAsync(Socket socket, byte[] data)
    {
        for (var offset = 0; offset < data.Length;)
        {
            offset += await socket.SendAsync(data.AsMemory(offset, Math.Min(256 * 1024, data.Length - offset)));
        }
    }

    private static async Task SendAndCloseAsync(Socket socket, byte[] data)
    {
        await SendAllAsync(socket, data);
        socket.Shutdown(SocketShutdown.Send);
    }

    private static async Task ReadExactlyAsync(Socket socket, int length)
    {
        var buffer = new byte[64 * 1024];
        for (var have = 0; have < length;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, length - have)));
            Assert.True(n > 0, $"closed after {have} of {length} bytes");
            have += n;
        }
    }

    private static async Task<(byte[] Bytes, bool Reset)> ReadToEndAsync(Socket socket)
    {
        var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await socket.ReceiveAsync(buffer)) > 0)
            {
                all.Write(buffer, 0, n);
            }

            return (all.ToArray(), false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return (all.ToArray(), true);
        }
    }

    /// <summary>A listener the guard's upstream connections reach; each guest connection is handed over with its server side.</summary>
    private sealed class Upstream : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly GuardHarness _harness;

        public Upstream(GuardHarness harness)
        {
            _harness = harness;
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(16);
            harness.Learn(Http, (IPEndPoint)_listener.LocalEndPoint!);
        }

        /// <summary>A guest connection allowed by its first message, and the upstream's end of it with that message read.</summary>
        public async Task<(Socket Guest, Socket Server)> OpenAsync()
        {
            var guest = await _harness.DialAsync(GuardHarness.SandboxA, Http);
            var server = await _listener.AcceptAsync().WaitAsync(Timeout);
            await GuestIo.SendAsync(guest, Request);
            var head = new byte[Request.Length];
            for (var have = 0; have < head.Length;)
            {
                have += await server.ReceiveAsync(head.AsMemory(have)).AsTask().WaitAsync(Timeout);
            }

            Assert.Equal(Request, Encoding.ASCII.GetString(head));
            return (guest, server);
        }

        public void Dispose() => _listener.Dispose();
    }
}

/// <summary>Counting the process's open descriptors needs no other test opening or closing any meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SpliceDescriptorCounting
{
    public const string Name = "guard splice descriptors";
}
