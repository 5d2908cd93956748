using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Cleanroom.Network.Dns;
using Cleanroom.Network.Guard;
using Cleanroom.Network.Tests.Nflog.Support;
using Cleanroom.Network.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Network.Tests.Guard.Support;

/// <summary>
/// A connection guard on loopback with its two seams filled in by the test: a guest tells the harness which original
/// destination it "dialled" before it connects (the kernel's SO_ORIGINAL_DST is proven in the namespace test), and the
/// guard's upstream connection to that made-up destination reaches a <see cref="LoopbackUpstream"/>. Sandboxes are told
/// apart by their loopback source address, as the real directory does with guest addresses.
/// </summary>
internal sealed class GuardHarness : IAsyncDisposable, IDnsClientDirectory, IDestinationCheck, IOriginalDestination
{
    public static readonly IPAddress SandboxA = IPAddress.Parse("127.0.0.2");
    public static readonly IPAddress SandboxB = IPAddress.Parse("127.0.0.3");
    public static readonly IPAddress Stranger = IPAddress.Parse("127.0.0.9");

    /// <summary>The address allowed.test and denied.test share (a documentation address, never really dialled).</summary>
    public static readonly IPAddress Shared = IPAddress.Parse("203.0.113.10");

    private readonly ConcurrentDictionary<IPEndPoint, IPEndPoint> _dialled = new();
    private readonly ConcurrentDictionary<IPEndPoint, IPEndPoint> _upstreams = new();
    private readonly ConcurrentDictionary<(string, IPAddress, int), byte> _learned = new();
    private readonly Dictionary<IPAddress, DnsClient> _clients;

    public GuardHarness(ConnectionGuardOptions? options = null)
    {
        var policy = TestNetworkPolicies.Compile("[allowed.test:443, allowed.test:80, ssh.test:22]", "[]");
        _clients = new()
        {
            [SandboxA] = new DnsClient("sb-a", policy, AllowAll: false),
            [SandboxB] = new DnsClient("sb-b", policy, AllowAll: false),
        };
        Guard = new ConnectionGuard(
            (options ?? new ConnectionGuardOptions()) with { Endpoint = new IPEndPoint(IPAddress.Loopback, 0) },
            this, this, Audit, NullLogger.Instance, TimeProvider.System, this, ConnectUpstreamAsync);
        Guard.Start();
    }

    public ConnectionGuard Guard { get; }

    public RecordingAudit Audit { get; } = new();

    /// <summary>Times the guard opened an upstream connection.</summary>
    public int UpstreamConnects => Volatile.Read(ref _upstreamConnects);

    private int _upstreamConnects;

    /// <summary>Makes <paramref name="original"/> a learned destination of both sandboxes, served by <paramref name="server"/>.</summary>
    public void Learn(IPEndPoint original, LoopbackUpstream server) => Learn(original, server.Endpoint);

    /// <summary>Makes <paramref name="original"/> a learned destination of both sandboxes, served at <paramref name="upstream"/>.</summary>
    public void Learn(IPEndPoint original, IPEndPoint upstream)
    {
        _learned[("sb-a", original.Address, original.Port)] = 0;
        _learned[("sb-b", original.Address, original.Port)] = 0;
        _upstreams[original] = upstream;
    }

    /// <summary>A guest connection from <paramref name="source"/> that "dialled" <paramref name="original"/>.</summary>
    public async Task<Socket> DialAsync(IPAddress source, IPEndPoint original)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(source, 0));
        _dialled[(IPEndPoint)socket.LocalEndPoint!] = original;
        await socket.ConnectAsync(Guard.LocalEndpoint);
        return socket;
    }

    /// <summary>
    /// Dials and expects the guard to reset the connection without a byte: the reset may already end the connect (it
    /// can arrive before the handshake's completion is seen) or the first read.
    /// </summary>
    public async Task AssertResetAsync(IPAddress source, IPEndPoint original)
    {
        Socket guest;
        try
        {
            guest = await DialAsync(source, original);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return;
        }

        using (guest)
        {
            Assert.Equal((string.Empty, true), await GuestIo.ReadToEndAsync(guest));
        }
    }

    public DnsClient? Find(IPAddress source) => _clients.GetValueOrDefault(source);

    public bool IsLearned(string sandboxId, IPAddress address, int port) => _learned.ContainsKey((sandboxId, address, port));

    IPEndPoint? IOriginalDestination.Find(Socket accepted) => _dialled.GetValueOrDefault((IPEndPoint)accepted.RemoteEndPoint!);

    public async ValueTask DisposeAsync() => await Guard.DisposeAsync();

    private async ValueTask<Socket> ConnectUpstreamAsync(IPEndPoint destination, CancellationToken ct)
    {
        Interlocked.Increment(ref _upstreamConnects);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(_upstreams.TryGetValue(destination, out var real) ? real : destination, ct);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
