// Real package-manager installs through the gateway, cold and warm, against the same installs straight from the
// static upstream, side by side in one run.
//
// Usage: dotnet run -c Release --project bench/gateway_packages [-- --rounds N --go-modules N --wheels N --npm-packages N]
//
// What is measured: the wall-clock time of one client command that fetches a whole generated package set,
//   go:  `go mod download` (/usr/bin/go) of 60 modules bench.example/mNN v1.0.0 required by one go.mod (zips of about
//        20-500 KB of random-ish Go source; GOSUMDB=off, GOFLAGS=-mod=mod, GOTOOLCHAIN=local),
//   pip: `python3 -m pip download --no-deps --no-cache-dir --isolated` (/usr/bin/python3) of 40 small pure-Python
//        wheels from a PEP 503 index,
//   npm: `npm ci --ignore-scripts` (/usr/bin/npm) of 40 small packages from a package-lock.json whose resolved links
//        name https://registry.npmjs.org (npm swaps in the configured registry, so it fetches tarballs only).
// The baseline ("direct") is the same command against the static upstream: Kestrel in this process serving the
// generated files from a directory on loopback (a GOPROXY tree for go; for pip an index whose links point at the
// same server; for npm the registry root). The gateway runs in this process with that server as the upstream of
// proxy.golang.org, pypi.org, files.pythonhosted.org and registry.npmjs.org (pip's index there links
// https://files.pythonhosted.org/..., as PyPI's does, and the gateway rewrites the links). Each round runs, per tool:
// direct; through the gateway after emptying its cache ("cold": every page and archive fetched upstream and stored);
// through the gateway again ("warm": all served from its cache).
// Every command gets fresh client-side directories (module cache, HOME, download target), so only the gateway's cache
// differs between cold and warm. After every command the bench checks that every archive arrived with the served
// bytes, and that the cold run fetched every archive upstream and the warm run none; anything else stops the bench.
// Clients reach nothing but loopback: HTTP(S)_PROXY names a closed loopback port. The gateway's per-sandbox request
// rate limits are lifted (the bench measures serving, not policy). Times are medians over the rounds.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Cleanroom.Gateway.Bench;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Microsoft.Extensions.Logging.Abstractions;

var rounds = IntArgument("--rounds", 3);
var work = Directory.CreateTempSubdirectory("cr-pkgbench-").FullName;
try
{
    var root = Directory.CreateDirectory(Path.Combine(work, "upstream")).FullName;
    var generate = Stopwatch.StartNew();
    IPackageTool[] tools =
    [
        new GoModules(root, IntArgument("--go-modules", 60), seed: 42),
        new PipPackages(root, IntArgument("--wheels", 40), seed: 43),
        new NpmPackages(root, IntArgument("--npm-packages", 40), seed: 44),
    ];
    Console.WriteLine($"generated in {generate.Elapsed.TotalSeconds:0.0} s: " + string.Join("; ", tools.Select(t => $"{t.Name}: {t.Packages} packages, {t.ArchiveBytes / 1e6:0.0} MB")));

    await using var upstream = await StaticServer.StartAsync(root);
    using var cache = new ContentCache(new ContentCacheOptions { RootDirectory = Path.Combine(work, "cache"), MaxTotalBytes = 4L << 30 });
    // npm's packuments name the gateway by its public address, so the port is chosen before the gateway starts.
    var port = FreePort();
    var options = new GatewayOptions
    {
        ListenEndpoints = [new IPEndPoint(IPAddress.Loopback, port)],
        PublicBaseUrl = new Uri($"http://127.0.0.1:{port}"),
        Upstreams = new Dictionary<string, Uri>(StringComparer.Ordinal)
        {
            ["proxy.golang.org"] = upstream.BaseUri,
            ["pypi.org"] = upstream.BaseUri,
            ["files.pythonhosted.org"] = upstream.BaseUri,
            ["registry.npmjs.org"] = upstream.BaseUri,
        },
        RequestsPerSecondPerSandbox = 1_000_000,
        RequestBurstPerSandbox = 1_000_000,
    };
    await using var gateway = await GatewayServer.StartAsync(options, cache, new EveryoneIsOneSandbox(), new NoAudit(), NullLoggerFactory.Instance, CancellationToken.None);
    var gatewayBase = new Uri($"http://127.0.0.1:{gateway.Endpoints[0].Port}/");
    var scratch = Directory.CreateDirectory(Path.Combine(work, "clients")).FullName;

    var times = tools.ToDictionary(t => t, _ => new Dictionary<string, List<double>> { ["direct"] = [], ["cold"] = [], ["warm"] = [] });
    var upstreamRequests = tools.ToDictionary(t => t, _ => (Cold: 0L, Warm: 0L));
    for (var round = 0; round < rounds; round++)
    {
        foreach (var tool in tools)
        {
            var direct = Count(upstream, () => tool.InstallAsync(tool.DirectUrl(upstream.BaseUri), scratch));
            var directRun = await direct;
            times[tool]["direct"].Add(directRun.Seconds);
            if (directRun.Artifacts != tool.Packages)
            {
                throw new InvalidOperationException($"round {round}, {tool.Name} direct: {directRun.Artifacts} archive requests, expected {tool.Packages}");
            }

            cache.Prune(new CachePruneOptions { All = true });
            var cold = await Count(upstream, () => tool.InstallAsync(tool.GatewayUrl(gatewayBase), scratch));
            var warm = await Count(upstream, () => tool.InstallAsync(tool.GatewayUrl(gatewayBase), scratch));
            if (cold.Artifacts != tool.Packages || warm.Artifacts != 0)
            {
                throw new InvalidOperationException($"round {round}, {tool.Name}: the cold run fetched {cold.Artifacts} archives upstream and the warm one {warm.Artifacts}; expected {tool.Packages}, then none");
            }

            times[tool]["cold"].Add(cold.Seconds);
            times[tool]["warm"].Add(warm.Seconds);
            upstreamRequests[tool] = (cold.Requests, warm.Requests);
            Console.WriteLine($"round {round + 1}/{rounds} {tool.Name}: direct {directRun.Seconds:0.00} s, cold {cold.Seconds:0.00} s, warm {warm.Seconds:0.00} s");
        }
    }

    Console.WriteLine();
    Console.WriteLine($"{"tool",-18}{"packages",9}{"MB",7}{"direct s",10}{"cold s",9}{"warm s",9}{"warm/direct",13}{"cold/direct",13}{"upstream req cold/warm",24}");
    foreach (var tool in tools)
    {
        var (direct, cold, warm) = (Median(times[tool]["direct"]), Median(times[tool]["cold"]), Median(times[tool]["warm"]));
        var requests = $"{upstreamRequests[tool].Cold}/{upstreamRequests[tool].Warm}";
        Console.WriteLine($"{tool.Name,-18}{tool.Packages,9}{tool.ArchiveBytes / 1e6,7:0.0}{direct,10:0.00}{cold,9:0.00}{warm,9:0.00}{warm / direct,13:0.00}{cold / direct,13:0.00}{requests,24}");
    }

    Console.WriteLine($"rounds: {rounds}, medians; MB: package archives per install; x/direct: time as a multiple of the direct install's (below 1.0 = faster)");
    Console.WriteLine("upstream req: requests the static upstream saw during the last round's cold and warm runs");
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

static async Task<(double Seconds, long Requests, long Artifacts)> Count(StaticServer upstream, Func<Task<double>> install)
{
    var (requests, artifacts) = (upstream.Requests, upstream.Artifacts);
    var seconds = await install();
    return (seconds, upstream.Requests - requests, upstream.Artifacts - artifacts);
}

static int FreePort()
{
    using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}
