using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Cleanroom.Gateway.Bench;

/// <summary>
/// <c>go mod download</c> of generated modules <c>bench.example/mNN v1.0.0</c>, all required by one consumer go.mod.
/// The upstream directory holds them as a static GOPROXY tree (<c>MODULE/@v/VERSION.info|.mod|.zip</c>,
/// <c>@v/list</c>); each zip holds a go.mod and Go source files under <c>MODULE@VERSION/</c>, sized at random
/// between about 20 and 500 KB compressed.
/// </summary>
internal sealed class GoModules : IPackageTool
{
    private const string GoBinary = "/usr/bin/go";
    private const string Version = "v1.0.0";
    private readonly Dictionary<string, long> _zipBytes = new(StringComparer.Ordinal);
    private readonly string _consumerGoMod;

    public GoModules(string upstreamRoot, int modules, int seed)
    {
        var random = new Random(seed);
        var require = new StringBuilder();
        for (var i = 0; i < modules; i++)
        {
            var module = $"bench.example/m{i:000}";
            var directory = Directory.CreateDirectory(Path.Combine(upstreamRoot, module, "@v")).FullName;

            // Log-uniform between about 20 and 500 KB compressed; the random names make the text deflate only about 1.9x.
            var compressed = 20_000 * Math.Pow(25, random.NextDouble());
            var zip = Zip(module, random, (int)(compressed * 1.9));
            File.WriteAllBytes(Path.Combine(directory, Version + ".zip"), zip);
            File.WriteAllText(Path.Combine(directory, Version + ".mod"), GoMod(module));
            File.WriteAllText(Path.Combine(directory, Version + ".info"), $"{{\"Version\":\"{Version}\",\"Time\":\"2026-01-01T00:00:00Z\"}}");
            File.WriteAllText(Path.Combine(directory, "list"), Version + "\n");
            _zipBytes[module] = zip.LongLength;
            require.Append(CultureInfo.InvariantCulture, $"\t{module} {Version}\n");
        }

        _consumerGoMod = $"module bench.example/consumer\n\ngo 1.19\n\nrequire (\n{require})\n";
    }

    public string Name => "go mod download";

    public int Packages => _zipBytes.Count;

    public long ArchiveBytes => _zipBytes.Values.Sum();

    public string DirectUrl(Uri upstream) => upstream.ToString().TrimEnd('/');

    public string GatewayUrl(Uri gateway) => new Uri(gateway, "goproxy/proxy.golang.org").ToString();

    public async Task<double> InstallAsync(string url, string scratch)
    {
        var run = Directory.CreateDirectory(Path.Combine(scratch, "go-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        try
        {
            var consumer = Directory.CreateDirectory(Path.Combine(run, "consumer")).FullName;
            await File.WriteAllTextAsync(Path.Combine(consumer, "go.mod"), _consumerGoMod);
            var modCache = Path.Combine(run, "gopath", "pkg", "mod");
            var seconds = await ClientProcess.RunAsync(GoBinary, ["mod", "download"], consumer, new Dictionary<string, string>
            {
                ["HOME"] = Directory.CreateDirectory(Path.Combine(run, "home")).FullName,
                ["GOENV"] = "off",
                ["GOPATH"] = Path.Combine(run, "gopath"),
                ["GOMODCACHE"] = modCache,
                ["GOCACHE"] = Path.Combine(run, "gocache"),
                ["GO111MODULE"] = "on",
                ["GOFLAGS"] = "-mod=mod",
                ["GOTOOLCHAIN"] = "local",
                ["GOPROXY"] = url,
                ["GOSUMDB"] = "off",
                ["GOPRIVATE"] = "",
                ["GONOPROXY"] = "",
                ["GONOSUMDB"] = "",
            });
            Verify(modCache, url);
            return seconds;
        }
        finally
        {
            ClientProcess.DeleteTree(run);
        }
    }

    private void Verify(string modCache, string url)
    {
        foreach (var (module, bytes) in _zipBytes)
        {
            var zip = Path.Combine(modCache, "cache", "download", module, "@v", Version + ".zip");
            var got = File.Exists(zip) ? new FileInfo(zip).Length : -1;
            var extracted = Path.Combine(modCache, module + "@" + Version, "go.mod");
            if (got != bytes || !File.Exists(extracted) || File.ReadAllText(extracted) != GoMod(module))
            {
                throw new InvalidOperationException($"go mod download from {url}: {module} arrived as {got} bytes (served {bytes}), extracted go.mod present: {File.Exists(extracted)}");
            }
        }
    }

    private static string GoMod(string module) => $"module {module}\n\ngo 1.19\n";

    private static byte[] Zip(string module, Random random, int sourceBytes)
    {
        var package = module[(module.LastIndexOf('/') + 1)..];
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(zip, $"{module}@{Version}/go.mod", GoMod(module));
            for (var file = 0; sourceBytes > 0; file++)
            {
                var size = Math.Min(sourceBytes, 48_000);
                Add(zip, $"{module}@{Version}/f{file:00}.go", $"package {package}\n\n" + SourceText.Go(random, size));
                sourceBytes -= size;
            }
        }

        return buffer.ToArray();
    }

    private static void Add(ZipArchive zip, string name, string content)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        entry.LastWriteTime = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var stream = entry.Open();
        stream.Write(Encoding.UTF8.GetBytes(content));
    }
}
