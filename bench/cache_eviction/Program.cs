using System.Diagnostics;
using System.Globalization;
using CacheEvictionBench;
using Cleanroom.Gateway.Cache.Eviction;

// Replays the same seeded traces against S3-FIFO and LRU at cache sizes given as shares of the popular catalogue.
// A request is a hit when the policy holds the key (then it is told of the access); a miss inserts the object, and
// whatever the policy evicts is gone. A miss is not also told of an access, matching ContentCache, which does not
// count serving a just-fetched blob as a hit (OpenRead of a Fetched result). Deterministic: same seed, same figures.
// Usage: dotnet run -c Release --project bench/cache_eviction [-- requests [seed]]
var requests = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
var seed = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 42;
const int Catalogue = 50_000;
const double ZipfAlpha = 0.9;

var trace = new FetchTrace(Catalogue, ZipfAlpha, seed);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"catalogue: {Catalogue:N0} popular objects, Zipf α={ZipfAlpha}, {Gib(trace.CatalogueBytes)} in all (mean {trace.MeanObjectBytes / (1 << 20):F2} MiB); {requests:N0} requests; seed {seed}"));

var scenarios = new (string Name, double OneHitShare, int ScanEvery, int ScanLayers)[]
{
    ("packages only (Zipf)", 0.0, 0, 0),
    ("packages + 15% one-hit wonders + a one-off 40-layer image pull every 20k requests", 0.15, 20_000, 40),
};
var shares = new[] { 0.01, 0.05, 0.10, 0.25 };

foreach (var scenario in scenarios)
{
    Console.WriteLine();
    Console.WriteLine(scenario.Name);
    Console.WriteLine($"{"cache",-18} {"byte hit S3-FIFO",17} {"byte hit LRU",13} {"object hit S3-FIFO",19} {"object hit LRU",15} {"time S3/LRU",13}");
    foreach (var share in shares)
    {
        var capacity = (long)(trace.CatalogueBytes * share);

        // The ghost set remembers about as many keys as the cache holds objects (the paper's choice).
        var ghosts = (int)Math.Clamp(capacity / trace.MeanObjectBytes, 1_000, 1_000_000);
        var s3 = Replay(new S3FifoPolicy<long>(capacity, ghosts), trace, requests, scenario);
        var lru = Replay(new LruPolicy<long>(capacity), trace, requests, scenario);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{$"{share:P0} ({Gib(capacity)})",-18} {s3.ByteHitRatio,17:P2} {lru.ByteHitRatio,13:P2} {s3.ObjectHitRatio,19:P2} {lru.ObjectHitRatio,15:P2} {$"{s3.Elapsed.TotalSeconds:F1}s/{lru.Elapsed.TotalSeconds:F1}s",13}"));
    }
}

static Result Replay(IEvictionPolicy<long> policy, FetchTrace trace, int requests, (string Name, double OneHitShare, int ScanEvery, int ScanLayers) scenario)
{
    var clock = Stopwatch.StartNew();
    long hits = 0, total = 0, hitBytes = 0, totalBytes = 0;
    foreach (var request in trace.Requests(requests, scenario.OneHitShare, scenario.ScanEvery, scenario.ScanLayers))
    {
        total++;
        totalBytes += request.Size;
        if (policy.Access(request.Key))
        {
            hits++;
            hitBytes += request.Size;
        }
        else if (request.Size <= policy.CapacityBytes)
        {
            policy.Insert(request.Key, request.Size);
        }
    }

    return new Result((double)hitBytes / totalBytes, (double)hits / total, clock.Elapsed);
}

static string Gib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F1} GiB");

internal readonly record struct Result(double ByteHitRatio, double ObjectHitRatio, TimeSpan Elapsed);
