using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cleanroom.TestSupport;

namespace Cleanroom.IntegrationTests.Network;

/// <summary>
/// The real package clients in a real guest, through the installed CLI and daemon: a sandbox from the toolchain image
/// (scripts/build-toolchain-image.sh) whose policy allows the public Go proxy, npm registry, PyPI and rubygems.org runs
/// <c>go mod download</c>, <c>npm install</c>, <c>pip download</c> and <c>bundle install</c> with nothing but the
/// environment the gateway gives it, and gets the packages' real bytes: a module zip, an npm tarball, a wheel and a
/// gem built by <c>gem build</c>. A second sandbox doing the same is served from the cache without one request
/// reaching the upstream, and npm pointed at a registry host the policy does not allow stops with the gateway's 403. One
/// static server in the test internet stands in for all five hosts.
/// </summary>
[Collection(DaemonTestGroup.Name)]
public sealed class ToolchainClientsTests : IAsyncLifetime
{
    private const string Image = "debian-toolchain-test:bookworm";
    private const int UpstreamPort = 8082;
    private const string GoModule = "example.test/hello";
    private const string GoVersion = "v1.0.0";
    private const string NpmName = "tiny-npm";
    private const string PipProject = "tiny-pkg";
    private const string PipVersion = "1.0";
    private const string GemName = "tiny_gem";
    private const string GemVersion = "0.1.0";

    private readonly NpmTestPackage _npm = new(NpmName, "1.0.0");
    private NetworkedDaemon _daemon = null!;
    private string _work = null!;
    private StaticUpstream _upstream = null!;
    private TinyGem _gem = null!;
    private string _wheelName = null!;
    private string _wheelSha256 = null!;

    private string Policy => Path.Combine(_work, "cleanroom.yaml");

    public async Task InitializeAsync()
    {
        // Checked before anything starts: xunit does not dispose a class whose InitializeAsync failed.
        Assert.True(File.Exists(RepoPaths.ToolchainImage), $"{RepoPaths.ToolchainImage} is missing: scripts/test.sh builds it with scripts/build-toolchain-image.sh");
        _work = Directory.CreateTempSubdirectory("cr-toolchain-").FullName;
        _upstream = new StaticUpstream(Path.Combine(_work, "upstream"));
        _gem = await TinyGem.BuildAsync(Path.Combine(_work, "gem"), GemName, GemVersion, legacyIndex: false);
        WriteUpstream();

        var upstream = $"http://{NetworkedDaemon.WebAddress}:{UpstreamPort}";
        _daemon = await NetworkedDaemon.StartAsync(
            "--gateway", "on",
            "--gateway-upstream", $"registry.npmjs.org={upstream}",
            "--gateway-upstream", $"proxy.golang.org={upstream}",
            "--gateway-upstream", $"pypi.org={upstream}",
            "--gateway-upstream", $"files.pythonhosted.org={upstream}",
            "--gateway-upstream", $"rubygems.org={upstream}");
        _upstream.Start(_daemon, UpstreamPort);

        var imported = await _daemon.CliAsync("image", "import", Image, RepoPaths.ToolchainImage);
        Assert.True(imported.ExitCode == 0, imported.Stderr);
        await File.WriteAllTextAsync(Policy, DebianNetworkRun.Policy(DebianNetworkRun.Allow("registry.npmjs.org:443", "proxy.golang.org:443", "pypi.org:443", "files.pythonhosted.org:443", "rubygems.org:443")));
    }

    public async Task DisposeAsync()
    {
        try
        {
            await _daemon.DisposeAsync();
        }
        finally
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [Fact]
    public async Task Go_npm_pip_and_bundler_install_through_the_gateway_a_second_sandbox_is_served_from_the_cache_and_other_hosts_get_403()
    {
        var first = await InstallEverythingAsync("first");
        var upstreamRequests = _upstream.AllRequests().Count;
        Assert.Equal(1, _upstream.Requests($"/{GoModule}/@v/{GoVersion}.zip"));
        Assert.Equal(1, _upstream.Requests(_npm.TarballPath));
        Assert.Equal(1, _upstream.Requests($"/packages/ab/cd/{_wheelName}"));
        Assert.Equal(1, _upstream.Requests($"/gems/{_gem.FileName}"));

        // A second registry (as an .npmrc naming one for a scope would) on a host the policy does not allow: npm
        // stops with the gateway's refusal, and nothing reaches the upstream.
        var refused = await ExecAsync(first, "sh", "-c",
            $"export HOME=/root; mkdir -p /tmp/other && cd /tmp/other && npm install --registry \"$CLEANROOM_GATEWAY_URL/npm/registry.example.test/\" {NpmName} 2>&1");
        Assert.True(refused.ExitCode != 0, refused.Stdout);
        Assert.Contains("403", refused.Stdout, StringComparison.Ordinal);
        Assert.Contains("/npm/registry.example.test/tiny-npm", refused.Stdout, StringComparison.Ordinal);
        Assert.Equal(upstreamRequests, _upstream.AllRequests().Count);

        // A fresh guest has no client caches: everything it asks for again comes from the gateway's cache.
        await InstallEverythingAsync("second");
        Assert.True(
            upstreamRequests == _upstream.AllRequests().Count,
            "the second sandbox reached the upstream: " + string.Join(", ", _upstream.AllRequests().Skip(upstreamRequests)));

        var stats = await _daemon.CliAsync("cache", "stats", "--json");
        Assert.True(stats.ExitCode == 0, stats.Stderr);
        using var document = JsonDocument.Parse(stats.Stdout);
        foreach (var route in new[] { "goproxy", "npm", "pypi", "rubygems" })
        {
            var counters = document.RootElement.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("route").GetString() == route);
            Assert.True(long.Parse(counters.GetProperty("hits").GetString()!, CultureInfo.InvariantCulture) >= 1, $"{route}: {stats.Stdout}");
        }
    }

    /// <summary>Installs one package with each tool in a new sandbox, checking the bytes that arrived; returns the sandbox.</summary>
    private async Task<string> InstallEverythingAsync(string run)
    {
        var id = await CreateSandboxAsync();

        // go: a module zip from the GOPROXY tree. The checksum database is not part of the test internet, so the
        // test module (and only it) is left out of sum checks; go still checks the zip against the go.mod it fetched.
        var go = await ExecAsync(id, "sh", "-c",
            "set -e; export HOME=/root GONOSUMDB=example.test; mkdir -p /tmp/app && cd /tmp/app; "
            + $"printf 'module example.test/app\\n\\ngo 1.19\\n' > go.mod; go mod download {GoModule}@{GoVersion}; "
            + $"cat \"$(go env GOMODCACHE)/{GoModule}@{GoVersion}/{GoModuleFiles.SourceFileName(GoModule)}\"");
        Assert.True(go.ExitCode == 0, $"{run}: go exited {go.ExitCode}: {go.Stdout} {go.Stderr}");
        Assert.Equal(GoModuleFiles.Source(GoModule, GoVersion), go.Stdout);

        // npm: the packument (its tarball link rewritten to the gateway), then the tarball, checked against its integrity.
        var npm = await ExecAsync(id, "sh", "-c",
            $"set -e; export HOME=/root; mkdir -p /tmp/web && cd /tmp/web; npm install --no-save {NpmName}@1.0.0 >&2; cat node_modules/{NpmName}/index.js");
        Assert.True(npm.ExitCode == 0, $"{run}: npm exited {npm.ExitCode}: {npm.Stdout} {npm.Stderr}");
        Assert.Equal(_npm.IndexJs, npm.Stdout);

        // pip: the PEP 503 page, then the wheel from the file host through the link the gateway pinned to its SHA-256.
        // (Debian's pip refuses `pip install` into the system Python (PEP 668); `pip download` fetches the same way.)
        var pip = await ExecAsync(id, "sh", "-c",
            $"set -e; export HOME=/root PIP_DISABLE_PIP_VERSION_CHECK=1; pip download --no-deps -d /tmp/wheels {PipProject}=={PipVersion} >&2; sha256sum /tmp/wheels/*");
        Assert.True(pip.ExitCode == 0, $"{run}: pip exited {pip.ExitCode}: {pip.Stdout} {pip.Stderr}");
        Assert.Equal($"{_wheelSha256}  /tmp/wheels/{_wheelName}", pip.Stdout.Trim());

        // Bundler: a Gemfile naming https://rubygems.org, which the mirror variable sends to the gateway; the compact
        // index, then the gem, checked against the SHA-256 in info/tiny_gem. Through bash: dash (Debian's sh) drops
        // BUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/ from the environment, its name not being a shell name.
        var bundle = await ExecAsync(id, "bash", "-c",
            "set -e; export HOME=/root BUNDLE_PATH=/tmp/gems/vendor BUNDLE_RETRY=0; mkdir -p /tmp/gems && cd /tmp/gems; "
            + $"printf 'source \"https://rubygems.org\"\\ngem \"{GemName}\", \"{GemVersion}\"\\n' > Gemfile; bundle install >&2; "
            + $"cat vendor/ruby/*/gems/{GemName}-{GemVersion}/lib/{GemName}.rb");
        Assert.True(bundle.ExitCode == 0, $"{run}: bundle exited {bundle.ExitCode}: {bundle.Stdout} {bundle.Stderr}");
        Assert.Equal(_gem.LibSource, bundle.Stdout);
        return id;
    }

    private async Task<string> CreateSandboxAsync()
    {
        var created = await _daemon.CliAsync("sandbox", "create", "--image", Image, "--policy", Policy);
        Assert.True(created.ExitCode == 0, $"exit {created.ExitCode}: {created.Stderr} {created.Stdout}");
        return created.Stdout.Trim();
    }

    private void WriteUpstream()
    {
        // go: a module's list, .info, go.mod and zip, as a GOPROXY serves them.
        var root = "/" + GoModuleFiles.Escape(GoModule) + "/@v/";
        _upstream.Add(root + "list", "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(GoVersion + "\n"));
        _upstream.Add(root + GoVersion + ".info", "application/json", GoModuleFiles.Info(GoVersion, 0));
        _upstream.Add(root + GoVersion + ".mod", "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(GoModuleFiles.GoMod(GoModule)));
        _upstream.Add(root + GoVersion + ".zip", "application/zip", GoModuleFiles.Zip(GoModule, GoVersion));

        // npm: a packument whose tarball link names the registry itself, with the tarball's integrity, and the tarball.
        var version = _npm.PackageJson();
        version["dist"] = new JsonObject { ["tarball"] = $"https://registry.npmjs.org{_npm.TarballPath}", ["integrity"] = _npm.Integrity };
        var packument = new JsonObject
        {
            ["name"] = NpmName,
            ["dist-tags"] = new JsonObject { ["latest"] = _npm.Version },
            ["versions"] = new JsonObject { [_npm.Version] = version },
        };
        _upstream.Add("/" + NpmName, "application/json", Encoding.UTF8.GetBytes(packument.ToJsonString()));
        _upstream.Add(_npm.TarballPath, "application/octet-stream", _npm.Tarball);

        // PyPI: a PEP 503 page linking to the file host with the wheel's hash, and the wheel.
        (_wheelName, var wheel) = TinyWheel.Build(PipProject, PipVersion);
        _wheelSha256 = Convert.ToHexStringLower(SHA256.HashData(wheel));
        _upstream.Add($"/packages/ab/cd/{_wheelName}", "application/octet-stream", wheel);
        _upstream.Add($"/simple/{PipProject}/", "text/html", Encoding.UTF8.GetBytes(
            $"<!DOCTYPE html><html><body><a href=\"https://files.pythonhosted.org/packages/ab/cd/{_wheelName}#sha256={_wheelSha256}\">{_wheelName}</a></body></html>\n"));

        // rubygems.org: the compact index and the gem.
        foreach (var (path, content) in _gem.Files)
        {
            _upstream.Add(path, path.StartsWith("/gems/", StringComparison.Ordinal) ? "application/octet-stream" : "text/plain; charset=utf-8", content);
        }
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> ExecAsync(string id, params string[] command) =>
        _daemon.CliAsync(["exec", "--in", id, "--no-stdin", "--", .. command]);
}
