using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Cleanroom.Gateway.Bench;

/// <summary>
/// <c>npm ci</c> of a project depending on generated packages <c>bench-npm-NN@1.0.0</c> (a gzipped tarball with
/// package.json, index.js and 2-100 KB of JavaScript each), from a committed package-lock.json whose resolved links
/// name https://registry.npmjs.org as a real lockfile's do; npm swaps that host for the configured registry
/// (replace-registry-host), so it fetches tarballs only, from <c>/NAME/-/NAME-1.0.0.tgz</c> on the static upstream
/// or through the gateway's npm route.
/// </summary>
internal sealed class NpmPackages : IPackageTool
{
    private const string Npm = "/usr/bin/npm";
    private const string Version = "1.0.0";
    private readonly Dictionary<string, (byte[] Tarball, string IndexJs)> _packages = new(StringComparer.Ordinal);
    private readonly string _packageJson;
    private readonly string _lockfile;

    public NpmPackages(string upstreamRoot, int packages, int seed)
    {
        var random = new Random(seed);
        var dependencies = new JsonObject();
        var locked = new JsonObject();
        for (var i = 0; i < packages; i++)
        {
            var name = $"bench-npm-{i:00}";
            var indexJs = $"module.exports = {{ name: \"{name}\", version: \"{Version}\" }};\n";
            var tarball = Tarball(name, indexJs, SourceText.Python(random, (int)(2_000 * Math.Pow(50, random.NextDouble()))));
            var directory = Directory.CreateDirectory(Path.Combine(upstreamRoot, name, "-")).FullName;
            File.WriteAllBytes(Path.Combine(directory, $"{name}-{Version}.tgz"), tarball);
            _packages[name] = (tarball, indexJs);
            dependencies[name] = Version;
            locked["node_modules/" + name] = new JsonObject
            {
                ["version"] = Version,
                ["resolved"] = $"https://registry.npmjs.org/{name}/-/{name}-{Version}.tgz",
                ["integrity"] = "sha512-" + Convert.ToBase64String(SHA512.HashData(tarball)),
                ["license"] = "MIT",
            };
        }

        var project = new JsonObject { ["name"] = "bench-consumer", ["version"] = "1.0.0", ["dependencies"] = dependencies.DeepClone() };
        _packageJson = project.ToJsonString();
        locked.Insert(0, "", project.DeepClone());
        _lockfile = new JsonObject
        {
            ["name"] = "bench-consumer",
            ["version"] = "1.0.0",
            ["lockfileVersion"] = 3,
            ["requires"] = true,
            ["packages"] = locked,
        }.ToJsonString();
    }

    public string Name => "npm ci";

    public int Packages => _packages.Count;

    public long ArchiveBytes => _packages.Values.Sum(p => p.Tarball.LongLength);

    public string DirectUrl(Uri upstream) => upstream.ToString();

    public string GatewayUrl(Uri gateway) => new Uri(gateway, "npm/registry.npmjs.org/").ToString();

    public async Task<double> InstallAsync(string url, string scratch)
    {
        var run = Directory.CreateDirectory(Path.Combine(scratch, "npm-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        try
        {
            var project = Directory.CreateDirectory(Path.Combine(run, "project")).FullName;
            await File.WriteAllTextAsync(Path.Combine(project, "package.json"), _packageJson);
            await File.WriteAllTextAsync(Path.Combine(project, "package-lock.json"), _lockfile);
            var home = Directory.CreateDirectory(Path.Combine(run, "home")).FullName;
            await File.WriteAllTextAsync(Path.Combine(home, ".npmrc"), "");
            await File.WriteAllTextAsync(Path.Combine(home, "global-npmrc"), "");
            var seconds = await ClientProcess.RunAsync(Npm, ["ci", "--registry", url, "--no-audit", "--no-fund", "--ignore-scripts"], project, new Dictionary<string, string>
            {
                ["HOME"] = home,
                ["npm_config_userconfig"] = Path.Combine(home, ".npmrc"),
                ["npm_config_globalconfig"] = Path.Combine(home, "global-npmrc"),
                ["npm_config_cache"] = Path.Combine(run, "npm-cache"),
                ["npm_config_update_notifier"] = "false",
                ["npm_config_fetch_retries"] = "0",
                ["npm_config_proxy"] = ClientProcess.ClosedProxy,
                ["npm_config_https_proxy"] = ClientProcess.ClosedProxy,
                ["npm_config_noproxy"] = "127.0.0.1",
            });
            foreach (var (name, (_, indexJs)) in _packages)
            {
                var file = Path.Combine(project, "node_modules", name, "index.js");
                if (!File.Exists(file) || await File.ReadAllTextAsync(file) != indexJs)
                {
                    throw new InvalidOperationException($"npm ci from {url}: {name} is not installed as served");
                }
            }

            return seconds;
        }
        finally
        {
            ClientProcess.DeleteTree(run);
        }
    }

    private static byte[] Tarball(string name, string indexJs, string library)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar, leaveOpen: true))
        {
            Add(tar, "package/package.json", $"{{\"name\":\"{name}\",\"version\":\"{Version}\",\"main\":\"index.js\",\"license\":\"MIT\"}}");
            Add(tar, "package/index.js", indexJs);
            Add(tar, "package/lib/table.js", "// generated\n" + library.Replace("\n", ";\n", StringComparison.Ordinal));
        }

        return output.ToArray();
    }

    private static void Add(TarWriter tar, string path, string text)
    {
        tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, path)
        {
            DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)),
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            ModificationTime = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
        });
    }
}
