using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cleanroom.TestSupport;

namespace Cleanroom.IntegrationTests.Network;

/// <summary>
/// The package routes from a real guest, through the installed CLI and daemon: a sandbox whose policy allows the public
/// npm registry, Go module proxy and PyPI gets the variables that point npm, go and pip at the gateway, and following
/// them the way those tools do (the guest image carries curl, not the tools) reaches the upstreams through the
/// gateway: the packument's tarball link leads back to the gateway, the PyPI page's file link is pinned to its
/// SHA-256, and a second fetch of each file comes from the cache. The upstreams are one static server in the test
/// internet, standing in for all four hosts.
/// </summary>
[Collection(DaemonTestGroup.Name)]
public sealed class PackageRoutesTests : IAsyncLifetime
{
    private const string Image = "debian-packages-test:bookworm";
    private const int UpstreamPort = 8081;
    private const string Gateway = "http://gateway.cleanroom.internal:8170";

    private NetworkedDaemon _daemon = null!;
    private string _work = null!;
    private StaticUpstream _upstream = null!;
    private string _sdistSha256 = null!;

    private string Policy => Path.Combine(_work, "cleanroom.yaml");

    public async Task InitializeAsync()
    {
        _work = Directory.CreateTempSubdirectory("cr-packages-").FullName;
        _upstream = new StaticUpstream(Path.Combine(_work, "upstream"));
        WriteUpstream();

        var upstream = $"http://{NetworkedDaemon.WebAddress}:{UpstreamPort}";
        _daemon = await NetworkedDaemon.StartAsync(
            "--gateway", "on",
            "--gateway-upstream", $"registry.npmjs.org={upstream}",
            "--gateway-upstream", $"proxy.golang.org={upstream}",
            "--gateway-upstream", $"pypi.org={upstream}",
            "--gateway-upstream", $"files.pythonhosted.org={upstream}");
        _upstream.Start(_daemon, UpstreamPort);

        var imported = await _daemon.CliAsync("image", "import", Image, RepoPaths.DebianImage);
        Assert.True(imported.ExitCode == 0, imported.Stderr);
        await File.WriteAllTextAsync(Policy, DebianNetworkRun.Policy(DebianNetworkRun.Allow("registry.npmjs.org:443", "proxy.golang.org:443", "pypi.org:443", "files.pythonhosted.org:443")));
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
    public async Task Npm_go_and_pip_variables_lead_through_the_gateway_and_repeats_come_from_the_cache()
    {
        var created = await _daemon.CliAsync("sandbox", "create", "--image", Image, "--policy", Policy);
        Assert.True(created.ExitCode == 0, $"exit {created.ExitCode}: {created.Stderr} {created.Stdout}");
        var id = created.Stdout.Trim();

        var environment = await ExecAsync(id, "sh", "-c", "echo \"$npm_config_registry|$GOPROXY|$PIP_INDEX_URL|$PIP_TRUSTED_HOST\"");
        Assert.True(environment.ExitCode == 0, environment.Stderr);
        Assert.Equal(
            $"{Gateway}/npm/registry.npmjs.org/|{Gateway}/goproxy/proxy.golang.org|{Gateway}/pypi/pypi.org/simple/|gateway.cleanroom.internal",
            environment.Stdout.Trim());

        // npm: the packument, then the tarball its (rewritten) link names, twice.
        var npm = await ExecAsync(id, "sh", "-c",
            "set -e; url=$(curl -sSf -m 30 \"${npm_config_registry}left-pad\" | grep -o '\"tarball\":\"[^\"]*\"' | cut -d'\"' -f4); echo \"$url\"; "
            + "for i in 1 2; do curl -sSf -m 30 -o /tmp/left-pad.tgz \"$url\"; tar -xzOf /tmp/left-pad.tgz package/package.json | grep -c left-pad; done");
        Assert.True(npm.ExitCode == 0, $"exit {npm.ExitCode}: {npm.Stdout} {npm.Stderr}");
        Assert.Equal([$"{Gateway}/npm/registry.npmjs.org/left-pad/-/left-pad-1.0.0.tgz", "1", "1"], Lines(npm.Stdout));
        Assert.Equal(1, _upstream.Requests("/left-pad/-/left-pad-1.0.0.tgz"));

        // go: a module's version list and go.mod, the paths go asks a GOPROXY for.
        var go = await ExecAsync(id, "sh", "-c",
            "set -e; curl -sSf -m 30 \"$GOPROXY/example.test/mod/@v/list\"; for i in 1 2; do curl -sSf -m 30 \"$GOPROXY/example.test/mod/@v/v1.0.0.mod\"; done");
        Assert.True(go.ExitCode == 0, $"exit {go.ExitCode}: {go.Stdout} {go.Stderr}");
        Assert.Equal(["v1.0.0", "module example.test/mod", "module example.test/mod"], Lines(go.Stdout));
        Assert.Equal(1, _upstream.Requests("/example.test/mod/@v/v1.0.0.mod"));

        // pip: the project page, whose link to the other host comes back pinned to its SHA-256, then the file twice.
        var pip = await ExecAsync(id, "sh", "-c",
            "set -e; href=$(curl -sSf -m 30 \"${PIP_INDEX_URL}tinypkg/\" | grep -o 'href=\"[^\"]*\"' | cut -d'\"' -f2); echo \"$href\"; "
            + $"for i in 1 2; do curl -sSf -m 30 -o /tmp/sdist \"{Gateway}${{href%%#*}}\"; sha256sum /tmp/sdist | cut -d' ' -f1; done");
        Assert.True(pip.ExitCode == 0, $"exit {pip.ExitCode}: {pip.Stdout} {pip.Stderr}");
        Assert.Equal(
            [$"/pypi/sha256:{_sdistSha256}/files.pythonhosted.org/packages/ab/tinypkg-1.0.tar.gz#sha256={_sdistSha256}", _sdistSha256, _sdistSha256],
            Lines(pip.Stdout));
        Assert.Equal(1, _upstream.Requests("/packages/ab/tinypkg-1.0.tar.gz"));

        // A package host the policy does not name gets no variables' help and a refusal at the gateway.
        var refused = await ExecAsync(id, "sh", "-c", $"curl -sS -m 30 -o /dev/null -w '%{{http_code}}' '{Gateway}/npm/registry.example.test/left-pad'");
        Assert.Equal("403", refused.Stdout.Trim());

        var stats = await _daemon.CliAsync("cache", "stats", "--json");
        Assert.True(stats.ExitCode == 0, stats.Stderr);
        using var document = JsonDocument.Parse(stats.Stdout);
        foreach (var route in new[] { "npm", "goproxy", "pypi" })
        {
            var counters = document.RootElement.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("route").GetString() == route);
            Assert.True(long.Parse(counters.GetProperty("hits").GetString()!, CultureInfo.InvariantCulture) >= 1, $"{route}: {stats.Stdout}");
        }
    }

    private void WriteUpstream()
    {
        // npm: a packument whose tarball link names the registry itself, and the tarball (made by tar, as npm pack does).
        var package = Path.Combine(_work, "npm", "package");
        Directory.CreateDirectory(package);
        File.WriteAllText(Path.Combine(package, "package.json"), "{\"name\":\"left-pad\",\"version\":\"1.0.0\"}\n");
        var tarball = Path.Combine(_work, "left-pad-1.0.0.tgz");
        NetworkNamespace.Host("tar", "-czf", tarball, "-C", Path.Combine(_work, "npm"), "package");
        _upstream.Add("/left-pad/-/left-pad-1.0.0.tgz", "application/octet-stream", File.ReadAllBytes(tarball));
        _upstream.Add("/left-pad", "application/json", Encoding.UTF8.GetBytes(
            "{\"name\":\"left-pad\",\"dist-tags\":{\"latest\":\"1.0.0\"},\"versions\":{\"1.0.0\":{\"name\":\"left-pad\",\"version\":\"1.0.0\","
            + "\"dist\":{\"tarball\":\"https://registry.npmjs.org/left-pad/-/left-pad-1.0.0.tgz\"}}}}"));

        // go: a module's list and go.mod.
        _upstream.Add("/example.test/mod/@v/list", "text/plain; charset=utf-8", Encoding.UTF8.GetBytes("v1.0.0\n"));
        _upstream.Add("/example.test/mod/@v/v1.0.0.mod", "text/plain; charset=utf-8", Encoding.UTF8.GetBytes("module example.test/mod\n"));

        // PyPI: a PEP 503 page linking to the file host with the file's hash, and the file.
        var sdist = Encoding.UTF8.GetBytes("not really a tarball, but bytes with a hash\n");
        _sdistSha256 = Convert.ToHexStringLower(SHA256.HashData(sdist));
        _upstream.Add("/packages/ab/tinypkg-1.0.tar.gz", "application/octet-stream", sdist);
        _upstream.Add("/simple/tinypkg/", "text/html", Encoding.UTF8.GetBytes(
            $"<!DOCTYPE html><html><body><a href=\"https://files.pythonhosted.org/packages/ab/tinypkg-1.0.tar.gz#sha256={_sdistSha256}\">tinypkg-1.0.tar.gz</a></body></html>\n"));
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private Task<(int ExitCode, string Stdout, string Stderr)> ExecAsync(string id, params string[] command) =>
        _daemon.CliAsync(["exec", "--in", id, "--no-stdin", "--", .. command]);
}
