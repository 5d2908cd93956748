// Usage: dotnet run -c Release --project bench/GuardRelayBench -- [MIB-PER-DOWNLOAD] [ROUNDS]     (default 512 and 3)
// One process, loopback only. Each round downloads MIB-PER-DOWNLOAD three ways, alternating: straight from the server
// ("direct"), through the connection guard copying every chunk through a managed buffer ("copy", SpliceAfterBytes off)
// and through the guard with its default splice(2) switch ("splice"). Server, guard and client share the host's cores,
// as the guard shares them with a guest under TCG, so relay CPU shows up as lost throughput. Prints MiB/s and the
// process's CPU seconds per GiB for each, the guard's own CPU per GiB (a mode's minus direct's), and the ratios.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Cleanroom.Network;
using Cleanroom.Network.Dns;
using Cleanroom.Network.Guard;
using Cleanroom.Policy;
using Microsoft.Extensions.Logging.Abstractions;

[assembly: SupportedOSPlatform("linux")]

if (args is ["guards", var upstreamPort])
{
    return await Bench.ServeGuardsAsync(new IPEndPoint(IPAddress.Loopback, int.Parse(upstreamPort, CultureInfo.InvariantCulture)));
}

var mib = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 512;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
var total = (long)mib * 1024 * 1024;

using var server = new Server();
// The guards run in a child process of their own, so its CPU time is the guard's alone.
using var guards = Process.Start(new ProcessStartInfo(Environment.ProcessPath!, ["guards", server.Endpoint.Port.ToString(CultureInfo.InvariantCulture)])
{
    RedirectStandardInput = true,
    RedirectStandardOutput = true,
})!;
var ports = (await guards.StandardOutput.ReadLineAsync())?.Split(' ') ?? throw new InvalidOperationException("the guard process said nothing");
var copy = new IPEndPoint(IPAddress.Loopback, int.Parse(ports[0], CultureInfo.InvariantCulture));
var splice = new IPEndPoint(IPAddress.Loopback, int.Parse(ports[1], CultureInfo.InvariantCulture));
var results = new Dictionary<string, List<Result>> { ["direct"] = [], ["copy"] = [], ["splice"] = [] };
try
{
    await Bench.DownloadAsync(server.Endpoint, IPAddress.Loopback, total / 8, guards); // warm up (JIT)
    await Bench.DownloadAsync(copy, Bench.Guest, total / 8, guards);
    await Bench.DownloadAsync(splice, Bench.Guest, total / 8, guards);
    for (var round = 0; round < rounds; round++)
    {
        foreach (var (mode, target, source) in new[] { ("direct", server.Endpoint, IPAddress.Loopback), ("copy", copy, Bench.Guest), ("splice", splice, Bench.Guest) })
        {
            var result = await Bench.DownloadAsync(target, source, total, guards);
            results[mode].Add(result);
            Console.WriteLine(FormattableString.Invariant(
                $"round {round} {mode,-6} {result.MibPerSecond,8:0.0} MiB/s  client+server CPU {result.PeersCpuPerGib,6:0.000} s/GiB  guard CPU {result.GuardCpuPerGib,6:0.000} s/GiB"));
        }
    }
}
finally
{
    guards.StandardInput.Close();
    await guards.WaitForExitAsync();
}

double Median(string mode, Func<Result, double> pick)
{
    var sorted = results[mode].Select(pick).Order().ToArray();
    return sorted[sorted.Length / 2];
}

Console.WriteLine(FormattableString.Invariant($"median of {rounds}, {mib} MiB each:"));
foreach (var mode in new[] { "direct", "copy", "splice" })
{
    Console.WriteLine(FormattableString.Invariant(
        $"  {mode,-6} {Median(mode, r => r.MibPerSecond),8:0.0} MiB/s  guard CPU {Median(mode, r => r.GuardCpuPerGib):0.000} s/GiB  throughput vs direct {Median(mode, r => r.MibPerSecond) / Median("direct", r => r.MibPerSecond):0.00}x"));
}

Console.WriteLine(FormattableString.Invariant(
    $"  splice/copy: throughput {Median("splice", r => r.MibPerSecond) / Median("copy", r => r.MibPerSecond):0.00}x, guard CPU per byte {Median("splice", r => r.GuardCpuPerGib) / Median("copy", r => r.GuardCpuPerGib):0.00}x"));
return 0;

/// <summary>One download: its rate, and CPU per GiB of this process (client and server) and of the guard process.</summary>
internal readonly record struct Result(double MibPerSecond, double PeersCpuPerGib, double GuardCpuPerGib);

/// <summary>The guard with its seams filled in, and the client side of one download.</summary>
internal sealed class Bench : IDnsClientDirectory, IDestinationCheck, IOriginalDestination, IEgressAudit
{
    /// <summary>The "guest": a loopback source address of its own, which the directory knows.</summary>
    public static readonly IPAddress Guest = IPAddress.Parse("127.0.0.2");

    private static readonly IPEndPoint Original = new(IPAddress.Parse("203.0.113.10"), 80);
    private readonly DnsClient _client = new("bench", Compile(), AllowAll: true);

    /// <summary>The child process: both guards, their ports on one line, until standard input closes.</summary>
    public static async Task<int> ServeGuardsAsync(IPEndPoint upstream)
    {
        var copy = StartGuard(upstream, spliceAfter: null);
        var splice = StartGuard(upstream, spliceAfter: new ConnectionGuardOptions().SpliceAfterBytes);
        Console.WriteLine(FormattableString.Invariant($"{copy.LocalEndpoint.Port} {splice.LocalEndpoint.Port}"));
        await Console.In.ReadToEndAsync();
        await copy.StopAsync();
        await splice.StopAsync();
        return 0;
    }

    private static ConnectionGuard StartGuard(IPEndPoint upstream, long? spliceAfter)
    {
        var options = new ConnectionGuardOptions { Endpoint = new IPEndPoint(IPAddress.Loopback, 0), SpliceAfterBytes = spliceAfter };
        var bench = new Bench();
        var guard = new ConnectionGuard(options, bench, bench, bench, NullLogger.Instance, TimeProvider.System, bench, async (_, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(upstream, ct);
            return socket;
        });
        guard.Start();
        return guard;
    }

    /// <summary>Asks for a download and reads it to the end; its rate and the whole process's CPU per GiB meanwhile.</summary>
    public static async Task<Result> DownloadAsync(IPEndPoint target, IPAddress source, long expected, Process guards)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(source, 0));
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        guards.Refresh();
        var guardCpu = guards.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await socket.ConnectAsync(target);
        await socket.SendAsync(Encoding.ASCII.GetBytes(FormattableString.Invariant($"GET /{expected} HTTP/1.1\r\nHost: bench.test\r\n\r\n")));
        var buffer = new byte[256 * 1024];
        long received = 0;
        int n;
        while ((n = await socket.ReceiveAsync(buffer)) > 0)
        {
            received += n;
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        guards.Refresh();
        var guardSeconds = (guards.TotalProcessorTime - guardCpu).TotalSeconds;
        if (received != expected)
        {
            throw new InvalidOperationException($"received {received} bytes, expected {expected}");
        }

        var gib = received / (1024.0 * 1024 * 1024);
        return new Result(received / (1024.0 * 1024) / seconds, cpuSeconds / gib, guardSeconds / gib);
    }

    public DnsClient? Find(IPAddress source) => source.Equals(Guest) ? _client : null;

    public bool IsLearned(string sandboxId, IPAddress address, int port) => true;

    IPEndPoint? IOriginalDestination.Find(Socket accepted) => Original;

    public void Denied(EgressDenial denial) => throw new InvalidOperationException($"the bench's download was refused: {denial}");

    private static NetworkPolicy Compile()
    {
        const string Yaml = "version: 1\nsandbox:\n  image:\n    ref: ghcr.io/buildkite/cleanroom-base/debian@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n  network:\n    allow: [bench.test:80]\n";
        var result = PolicyCompiler.Compile(Yaml, "bench.yaml");
        return result.Policy?.Network ?? throw new InvalidOperationException(string.Join("\n", result.Diagnostics));
    }
}

/// <summary>A loopback server that answers each request line "GET /N" with N bytes, then closes its half.</summary>
internal sealed class Server : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly byte[] _data = new byte[1024 * 1024];

    public Server()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        Endpoint = (IPEndPoint)_listener.LocalEndPoint!;
        Random.Shared.NextBytes(_data);
        _ = AcceptAsync();
    }

    public IPEndPoint Endpoint { get; }

    public void Dispose() => _listener.Dispose();

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await socket.ReceiveAsync(one) == 1)
            {
                head.Append((char)one[0]);
            }

            var length = long.Parse(head.ToString().Split(' ')[1].TrimStart('/'), CultureInfo.InvariantCulture);
            for (long sent = 0; sent < length;)
            {
                sent += await socket.SendAsync(_data.AsMemory(0, (int)Math.Min(_data.Length, length - sent)));
            }

            socket.Shutdown(SocketShutdown.Send);
            while (await socket.ReceiveAsync(one) > 0)
            {
            }
        }
    }
}
