// Gateway cache hits against nginx, one run, same bytes, same client.
//
// Usage: dotnet run -c Release --project bench/gateway_cache [-- --rounds N]
// Needs nginx (bench/gateway_cache/run.sh installs nginx-light when it is missing).
//
// nginx serves a directory holding one 100 MB object and 1,000 small ones (1-64 KiB, a package-registry mix) on
// loopback. The gateway is started in this process with that nginx as the upstream of a made-up host, and every
// object is fetched through it once so its cache holds them all. Then rounds alternate between the two servers:
// the 100 MB object downloaded a few times (MB/s), and the 1,000 small objects fetched by 8 concurrent clients
// (requests/s, p50 and p99 latency). The client is one HttpClient; bodies are read and discarded.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Cleanroom.Gateway.Bench;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Microsoft.Extensions.Logging.Abstractions;

var rounds = args.Length == 2 && args[0] == "--rounds" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
var work = Directory.CreateTempSubdirectory("cr-gwbench-").FullName;
try
{
    var files = Directory.CreateDirectory(Path.Combine(work, "files")).FullName;
    var objects = BenchObjects.Write(files, seed: 42);
    Console.WriteLine($"objects: 1 x {BenchObjects.LargeBytes / 1_000_000} MB, {objects.Small.Count} small ({objects.SmallBytes / 1024} KiB in all)");

    await using var nginx = await NginxServer.StartAsync(files, Path.Combine(work, "nginx"));
    using var cache = new ContentCache(new ContentCacheOptions { RootDirectory = Path.Combine(work, "cache"), MaxTotalBytes = 4L << 30 });
    var options = new GatewayOptions
    {
        ListenEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)],
        Upstreams = new Dictionary<string, Uri>(StringComparer.Ordinal) { ["files.test"] = nginx.BaseUri },
        RequestsPerSecondPerSandbox = 1_000_000,
        RequestBurstPerSandbox = 1_000_000,
    };
    await using var gateway = await GatewayServer.StartAsync(options, cache, new EveryoneIsOneSandbox(), new NoAudit(), NullLoggerFactory.Instance, CancellationToken.None);
    var gatewayBase = new Uri($"http://127.0.0.1:{gateway.Endpoints[0].Port}/fetch/files.test/");

    using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseProxy = false }) { Timeout = TimeSpan.FromMinutes(5) };
    var warm = Stopwatch.StartNew();
    await Load.FetchAllAsync(client, gatewayBase, [BenchObjects.LargeName, .. objects.Small], concurrency: 8);
    Console.WriteLine($"warm-up through the gateway (all misses): {warm.Elapsed.TotalSeconds:0.0} s; cache holds {cache.BlobCount} blobs, {cache.UsedBytes / 1_000_000} MB");

    var large = new Dictionary<string, List<double>> { ["nginx"] = [], ["gateway"] = [] };
    var small = new Dictionary<string, List<Load.SmallRun>> { ["nginx"] = [], ["gateway"] = [] };
    for (var round = 0; round < rounds; round++)
    {
        foreach (var (name, baseUri) in new[] { ("nginx", nginx.BaseUri), ("gateway", gatewayBase) })
        {
            large[name].Add(await Load.DownloadMegabytesPerSecondAsync(client, new Uri(baseUri, BenchObjects.LargeName)));
            small[name].Add(await Load.FetchSmallAsync(client, baseUri, objects.Small, concurrency: 8));
        }
    }

    var hits = gateway.Statistics().Where(r => r.Route == "fetch").Select(r => r.Hits).Sum();
    Console.WriteLine($"gateway cache hits counted during the rounds: {hits}");
    Console.WriteLine();
    Console.WriteLine($"{"measurement",-34}{"nginx",14}{"gateway",14}{"ratio",8}");
    Row("100 MB object, MB/s (median)", Median(large["nginx"]), Median(large["gateway"]), higherIsBetter: true);
    Row("1,000 small, requests/s (median)", Median(small["nginx"].Select(r => r.RequestsPerSecond)), Median(small["gateway"].Select(r => r.RequestsPerSecond)), higherIsBetter: true);
    Row("1,000 small, p50 latency ms", Median(small["nginx"].Select(r => r.P50Ms)), Median(small["gateway"].Select(r => r.P50Ms)), higherIsBetter: false);
    Row("1,000 small, p99 latency ms", Median(small["nginx"].Select(r => r.P99Ms)), Median(small["gateway"].Select(r => r.P99Ms)), higherIsBetter: false);
    Console.WriteLine("ratio: gateway as a fraction of nginx's performance (1.0 = as fast; target >= 0.9)");
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

static void Row(string name, double nginx, double gateway, bool higherIsBetter)
{
    var ratio = higherIsBetter ? gateway / nginx : nginx / gateway;
    Console.WriteLine($"{name,-34}{nginx,14:0.0}{gateway,14:0.0}{ratio,8:0.00}");
}
