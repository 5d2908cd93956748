// git clone of a generated repository through the gateway, cold and warm, against a direct clone from the same
// git server, in one run.
//
// Usage: dotnet run -c Release --project bench/gateway_git [-- --rounds N --megabytes M]
//
// The repository (default 50 MB of incompressible file content over 10 commits) is served by git http-backend on
// loopback (the same CGI server the gateway's tests use). The gateway runs in this process with that server as the
// upstream of a made-up host. Each round clones three ways into fresh directories: directly from the server, through
// the gateway with an emptied cache (every pack fetched upstream and stored), and through the gateway again (the
// pack served from the cache). Protocol v2, as git uses by default.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Cleanroom.Gateway.Bench;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Cleanroom.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

var rounds = IntArgument("--rounds", 3);
var megabytes = IntArgument("--megabytes", 50);
var work = Directory.CreateTempSubdirectory("cr-gitbench-").FullName;
try
{
    var repositories = Directory.CreateDirectory(Path.Combine(work, "repos")).FullName;
    var generate = Stopwatch.StartNew();
    var head = CreateRepository(repositories, "bench.git", megabytes);
    var packBytes = Directory.EnumerateFiles(Path.Combine(repositories, "bench.git", "objects"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
    Console.WriteLine($"repository: {megabytes} MB of files in 10 commits, objects {packBytes / 1_000_000} MB on disk, head {head[..12]} (generated in {generate.Elapsed.TotalSeconds:0.0} s)");

    await using var server = GitHttpBackendServer.Start(repositories);
    using var cache = new ContentCache(new ContentCacheOptions { RootDirectory = Path.Combine(work, "cache"), MaxTotalBytes = 4L << 30 });
    var options = new GatewayOptions
    {
        ListenEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)],
        Upstreams = new Dictionary<string, Uri>(StringComparer.Ordinal) { ["git.bench.test"] = server.BaseUri },
    };
    await using var gateway = await GatewayServer.StartAsync(options, cache, new EveryoneIsOneSandbox(), new NoAudit(), NullLoggerFactory.Instance, CancellationToken.None);
    var direct = new Uri(server.BaseUri, "bench.git").ToString();
    var through = $"http://127.0.0.1:{gateway.Endpoints[0].Port}/git/git.bench.test/bench.git";

    var times = new Dictionary<string, List<double>> { ["direct"] = [], ["cold"] = [], ["warm"] = [] };
    for (var round = 0; round < rounds; round++)
    {
        times["direct"].Add(Clone(direct, head));
        cache.Prune(new CachePruneOptions { All = true });
        var packsBefore = server.PackRequests;
        times["cold"].Add(Clone(through, head));
        var coldPacks = server.PackRequests - packsBefore;
        times["warm"].Add(Clone(through, head));
        var warmPacks = server.PackRequests - packsBefore - coldPacks;
        if (coldPacks == 0 || warmPacks != 0)
        {
            throw new InvalidOperationException($"round {round}: the cold clone made {coldPacks} pack requests upstream and the warm one {warmPacks}; expected some, then none");
        }
    }

    Console.WriteLine();
    Console.WriteLine($"{"clone",-36}{"median s",10}{"min s",10}{"vs direct",11}");
    var baseline = Median(times["direct"]);
    foreach (var (name, label) in new[] { ("direct", "direct from git http-backend"), ("cold", "through the gateway, cold cache"), ("warm", "through the gateway, warm cache") })
    {
        Console.WriteLine($"{label,-36}{Median(times[name]),10:0.00}{times[name].Min(),10:0.00}{Median(times[name]) / baseline,11:0.00}");
    }

    Console.WriteLine($"rounds: {rounds}; vs direct: clone time as a multiple of the direct clone's (below 1.0 = faster)");
}
finally
{
    Directory.Delete(work, recursive: true);
}

int IntArgument(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

double Clone(string url, string head)
{
    var target = Path.Combine(work, "clone-" + Guid.NewGuid().ToString("N")[..8]);
    var clock = Stopwatch.StartNew();
    GitHttpBackendServer.Git(work, "clone", "-q", url, target);
    var seconds = clock.Elapsed.TotalSeconds;
    var got = GitHttpBackendServer.Git(target, "rev-parse", "HEAD").Trim();
    Directory.Delete(target, recursive: true);
    return got == head ? seconds : throw new InvalidOperationException($"the clone of {url} is at {got}, not {head}");
}

static string CreateRepository(string root, string name, int megabytes)
{
    var tree = Path.Combine(root, ".work");
    Directory.CreateDirectory(tree);
    GitHttpBackendServer.Git(tree, "init", "-q", "-b", "main");
    var perCommit = megabytes / 10.0;
    var buffer = new byte[1 << 20];
    for (var commit = 0; commit < 10; commit++)
    {
        // Random bytes: zlib cannot shrink them, so the pack is as big as the files.
        for (var file = 0; file < Math.Max(1, (int)Math.Round(perCommit)); file++)
        {
            RandomNumberGenerator.Fill(buffer);
            File.WriteAllBytes(Path.Combine(tree, $"c{commit:00}-f{file:000}.bin"), buffer);
        }

        GitHttpBackendServer.Git(tree, "add", ".");
        GitHttpBackendServer.Git(tree, "-c", "user.name=bench", "-c", "user.email=bench@example.test", "commit", "-q", "-m", $"commit {commit}");
    }

    GitHttpBackendServer.Git(root, "clone", "-q", "--bare", tree, name);
    var head = GitHttpBackendServer.Git(tree, "rev-parse", "HEAD").Trim();
    Directory.Delete(tree, recursive: true);
    return head;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}
