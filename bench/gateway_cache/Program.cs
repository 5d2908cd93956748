// Gateway cache hits against nginx, one run, same bytes, same client.
//
// Usage: dotnet run -c Release --project bench/gateway_cache [-- --rounds N]
// Needs nginx (bench/gateway_cache/run.sh installs nginx-light when it is missing).
//
// nginx serves a directory holding one 100 MB object and 1,000 small ones (1-64 KiB, a package-registry mix) on
// loopback. The gateway runs in a process of its own (this executable again, see GatewayProcess) with that nginx as
// the upstream of a made-up host, and every object is fetched through it once so its cache holds them all, then a few
// more times from both servers so both are warm. Then rounds alternate between the two servers: the 100 MB object
// downloaded a few times (MB/s), and the 1,000 small objects fetched a few times over by 8 concurrent clients
// (requests/s, p50 and p99 latency). The client is one HttpClient; bodies are read and discarded.
//
// Besides wall-clock figures (which other work on the machine disturbs) it reports each server process's CPU time
// (user + system, /proc/PID/stat) per request and per MB over all rounds: robust to noise, and what a change to the
// gateway's serving path should move.
using System.Diagnostics;
using System.Globalization;
using Cleanroom.Gateway.Bench;

if (args.Length == 3 && args[0] == GatewayProcess.ServeFlag)
{
    await GatewayProcess.ServeAsync(args[1], new Uri(args[2]));
    return;
}

var rounds = args.Length == 2 && args[0] == "--rounds" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
const int LargeRepeats = 2;
const int SmallRepeats = 3;
const int WarmPasses = 4;
var work = Directory.CreateTempSubdirectory("cr-gwbench-").FullName;
try
{
    var files = Directory.CreateDirectory(Path.Combine(work, "files")).FullName;
    var objects = BenchObjects.Write(files, seed: 42);
    Console.WriteLine($"objects: 1 x {BenchObjects.LargeBytes / 1_000_000} MB, {objects.Small.Count} small ({objects.SmallBytes / 1024} KiB in all)");

    await using var nginx = await NginxServer.StartAsync(files, Path.Combine(work, "nginx"));
    await using var gateway = await GatewayProcess.StartAsync(Path.Combine(work, "cache"), nginx.BaseUri);

    using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseProxy = false }) { Timeout = TimeSpan.FromMinutes(5) };
    var warm = Stopwatch.StartNew();
    string[] everything = [BenchObjects.LargeName, .. objects.Small];
    await Load.FetchAllAsync(client, gateway.BaseUri, everything, concurrency: 8);
    Console.WriteLine($"warm-up through the gateway (all misses): {warm.Elapsed.TotalSeconds:0.0} s");

    // Hits on each side before measuring: nginx's page cache is warm, and the gateway's hit path has been through the
    // JIT's tiers (a few thousand requests; with fewer, recompilation shows up as server CPU in the first rounds).
    for (var i = 0; i < WarmPasses; i++)
    {
        await Load.FetchAllAsync(client, gateway.BaseUri, everything, concurrency: 8);
        await Load.FetchAllAsync(client, nginx.BaseUri, everything, concurrency: 8);
    }

    // The floor: the cheapest answer each server gives (nginx a 3-byte file, the gateway /healthz, which skips
    // identification, the cache and hashing), so the cost of serving a hit can be told from the cost of HTTP itself.
    await File.WriteAllTextAsync(Path.Combine(files, "healthz"), "ok\n");
    var floorNames = Enumerable.Repeat("healthz", objects.Small.Count).ToList();
    var sides = new[]
    {
        new Side("nginx", nginx.BaseUri, nginx.BaseUri, nginx.Pid),
        new Side("gateway", gateway.BaseUri, new Uri(gateway.BaseUri, "/"), gateway.Pid),
    };
    var clientCpu = new Dictionary<string, double> { ["nginx"] = 0, ["gateway"] = 0 };
    for (var round = 0; round < rounds; round++)
    {
        // Who goes first alternates, so neither side always meets the machine as the other left it.
        foreach (var side in round % 2 == 0 ? sides : sides.Reverse())
        {
            var cpu = ProcessCpu.Seconds(side.Pid);
            var clientBefore = ProcessCpu.Seconds(Environment.ProcessId);
            for (var i = 0; i < LargeRepeats; i++)
            {
                side.Large.Add(await Load.DownloadMegabytesPerSecondAsync(client, new Uri(side.BaseUri, BenchObjects.LargeName)));
            }

            var between = ProcessCpu.Seconds(side.Pid);
            side.LargeCpuSeconds += between - cpu;
            for (var i = 0; i < SmallRepeats; i++)
            {
                side.Small.Add(await Load.FetchSmallAsync(client, side.BaseUri, objects.Small, concurrency: 8));
            }

            var afterSmall = ProcessCpu.Seconds(side.Pid);
            side.SmallCpuSeconds += afterSmall - between;
            clientCpu[side.Name] += ProcessCpu.Seconds(Environment.ProcessId) - clientBefore;
            for (var i = 0; i < SmallRepeats; i++)
            {
                side.Floor.Add(await Load.FetchSmallAsync(client, side.FloorUri, floorNames, concurrency: 8));
            }

            side.FloorCpuSeconds += ProcessCpu.Seconds(side.Pid) - afterSmall;
        }
    }

    var hits = await gateway.StopAsync();
    var expectedHits = WarmPasses * everything.Length + (long)rounds * (LargeRepeats + SmallRepeats * objects.Small.Count);
    Console.WriteLine($"gateway cache hits counted: {hits} (expected {expectedHits})");
    Console.WriteLine();
    var (n, g) = (sides[0], sides[1]);
    var largeMegabytes = (double)rounds * LargeRepeats * BenchObjects.LargeBytes / 1_000_000;
    var smallRequests = (double)rounds * SmallRepeats * objects.Small.Count;
    Console.WriteLine($"{"measurement",-48}{"nginx",12}{"gateway",12}{"ratio",8}");
    Row("100 MB object, MB/s (median)", Median(n.Large), Median(g.Large), higherIsBetter: true);
    Row("100 MB object, server CPU ms per MB", n.LargeCpuSeconds * 1000 / largeMegabytes, g.LargeCpuSeconds * 1000 / largeMegabytes, higherIsBetter: false);
    Row("1,000 small, requests/s (median)", Median(n.Small.Select(r => r.RequestsPerSecond)), Median(g.Small.Select(r => r.RequestsPerSecond)), higherIsBetter: true);
    Row("1,000 small, p50 latency ms", Median(n.Small.Select(r => r.P50Ms)), Median(g.Small.Select(r => r.P50Ms)), higherIsBetter: false);
    Row("1,000 small, p99 latency ms", Median(n.Small.Select(r => r.P99Ms)), Median(g.Small.Select(r => r.P99Ms)), higherIsBetter: false);
    Row("1,000 small, server CPU us per request", n.SmallCpuSeconds * 1e6 / smallRequests, g.SmallCpuSeconds * 1e6 / smallRequests, higherIsBetter: false);
    Row("100 MB, per-round ratio (median of rounds)", double.NaN, double.NaN, higherIsBetter: true, PairedMedian(n.Large, g.Large, LargeRepeats));
    Row("1,000 small, per-round ratio (median of rounds)", double.NaN, double.NaN, higherIsBetter: true,
        PairedMedian([.. n.Small.Select(r => r.RequestsPerSecond)], [.. g.Small.Select(r => r.RequestsPerSecond)], SmallRepeats));
    Row("floor (3 bytes / healthz), requests/s", Median(n.Floor.Select(r => r.RequestsPerSecond)), Median(g.Floor.Select(r => r.RequestsPerSecond)), higherIsBetter: true);
    Row("floor, server CPU us per request", n.FloorCpuSeconds * 1e6 / smallRequests, g.FloorCpuSeconds * 1e6 / smallRequests, higherIsBetter: false);
    Row("client CPU s, large + small phases", clientCpu["nginx"], clientCpu["gateway"], higherIsBetter: false);
    Console.WriteLine($"ratio: gateway as a fraction of nginx's performance (1.0 = as fast; target >= 0.9); CPU over {rounds} rounds " +
        $"({largeMegabytes:0} MB large, {smallRequests:0} small requests per side), 10 ms resolution");
}
finally
{
    Directory.Delete(work, recursive: true);
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}

// The two sides of a round run back to back, so their ratio is less disturbed by the machine's drift over the run
// than the ratio of the two overall medians: the median of the rounds' ratios (each side's median within the round).
static double PairedMedian(List<double> nginx, List<double> gateway, int perRound) =>
    Median(Enumerable.Range(0, nginx.Count / perRound).Select(round =>
        Median(gateway.Skip(round * perRound).Take(perRound)) / Median(nginx.Skip(round * perRound).Take(perRound))));

static void Row(string name, double nginx, double gateway, bool higherIsBetter, double? given = null)
{
    var ratio = given ?? (higherIsBetter ? gateway / nginx : nginx / gateway);
    var figures = double.IsNaN(nginx) ? $"{"",12}{"",12}" : $"{nginx,12:0.000}{gateway,12:0.000}";
    Console.WriteLine($"{name,-48}{figures}{ratio,8:0.00}");
}

/// <summary>One server's figures over the rounds.</summary>
internal sealed class Side(string name, Uri baseUri, Uri floorUri, int pid)
{
    public string Name { get; } = name;

    public Uri BaseUri { get; } = baseUri;

    public Uri FloorUri { get; } = floorUri;

    public int Pid { get; } = pid;

    public List<Load.SmallRun> Floor { get; } = [];

    public double FloorCpuSeconds { get; set; }

    public List<double> Large { get; } = [];

    public List<Load.SmallRun> Small { get; } = [];

    public double LargeCpuSeconds { get; set; }

    public double SmallCpuSeconds { get; set; }
}
