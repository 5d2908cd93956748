using System.Net;
using System.Text.Json.Nodes;
using Cleanroom.Gateway.Tests.Server;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.Npm;

/// <summary>The real npm client installing through the gateway from a static registry on loopback.</summary>
public sealed class NpmClientTests : IAsyncLifetime
{
    private const string Host = NpmRegistryServer.TarballHost;
    private readonly NpmRegistryServer _registry = new();
    private readonly Scratch _work = new();
    private readonly NpmTestPackage _app = new("cr-app", "1.0.0", new Dictionary<string, string> { ["@cr/lib"] = "^1.0.0" });
    private readonly NpmTestPackage _lib10 = new("@cr/lib", "1.0.0");
    private readonly NpmTestPackage _lib11 = new("@cr/lib", "1.1.0");

    public Task InitializeAsync()
    {
        _registry.Add(_app);
        _registry.Add(_lib10);
        _registry.Add(_lib11);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        _work.Dispose();
    }

    [Fact]
    public async Task Npm_installs_through_the_gateway_and_a_second_install_is_served_from_its_cache()
    {
        NpmCli.Require();
        await using var gateway = await StartAsync();
        var registry = $"http://127.0.0.1:{gateway.Port}/npm/{Host}/";

        var first = Project("first");
        var (code, output) = await NpmCli.RunAsync(first, Home("first"), Cache("first"), "install", "--registry", registry, "--no-audit", "--no-fund");
        Assert.True(code == 0, output + gateway.Log);
        AssertInstalled(first);
        Assert.Equal(2, _registry.TarballRequests);
        var upstreamRequests = _registry.Paths.Count;
        Assert.Equal(4, gateway.Counters("npm").Misses); // two packuments and two tarballs

        // A new project, a new HOME and an empty npm cache: everything comes from the gateway's cache.
        var second = Project("second");
        (code, output) = await NpmCli.RunAsync(second, Home("second"), Cache("second"), "install", "--registry", registry, "--no-audit", "--no-fund");
        Assert.True(code == 0, output + gateway.Log);
        AssertInstalled(second);
        Assert.Equal(2, _registry.TarballRequests);
        Assert.Equal(upstreamRequests, _registry.Paths.Count);
        Assert.True(gateway.Counters("npm").Hits >= 4, output);

        // npm ci from the lockfile the first install wrote, again with an empty cache.
        var ci = Project("ci");
        File.Copy(Path.Combine(first, "package-lock.json"), Path.Combine(ci, "package-lock.json"));
        (code, output) = await NpmCli.RunAsync(ci, Home("ci"), Cache("ci"), "ci", "--registry", registry, "--no-audit", "--no-fund");
        Assert.True(code == 0, output + gateway.Log);
        AssertInstalled(ci);
        Assert.Equal(upstreamRequests, _registry.Paths.Count);
    }

    [Fact]
    public async Task Npm_ci_with_a_lockfile_that_names_the_public_registry_fetches_through_the_gateway()
    {
        NpmCli.Require();
        await using var gateway = await StartAsync();
        var registry = $"http://127.0.0.1:{gateway.Port}/npm/{Host}/";

        // A lockfile as committed by someone outside a sandbox: resolved links on https://registry.npmjs.org. npm
        // replaces that host with the configured registry (replace-registry-host, default "npmjs").
        var project = Project("committed");
        var lockfile = new JsonObject
        {
            ["name"] = "cr-test-project",
            ["version"] = "1.0.0",
            ["lockfileVersion"] = 3,
            ["requires"] = true,
            ["packages"] = new JsonObject
            {
                [""] = new JsonObject { ["name"] = "cr-test-project", ["version"] = "1.0.0", ["dependencies"] = new JsonObject { ["cr-app"] = "^1.0.0" } },
                ["node_modules/cr-app"] = Locked(_app),
                ["node_modules/@cr/lib"] = Locked(_lib11),
            },
        };
        ((JsonObject)lockfile["packages"]!["node_modules/cr-app"]!)["dependencies"] = new JsonObject { ["@cr/lib"] = "^1.0.0" };
        File.WriteAllText(Path.Combine(project, "package-lock.json"), lockfile.ToJsonString());

        var (code, output) = await NpmCli.RunAsync(project, Home("committed"), Cache("committed"), "ci", "--registry", registry, "--no-audit", "--no-fund");
        Assert.True(code == 0, output + gateway.Log);
        AssertInstalled(project);
        Assert.Equal(new[] { _app.TarballPath, _lib11.TarballPath }.Order(StringComparer.Ordinal), _registry.Paths.Order(StringComparer.Ordinal));
        Assert.Equal(2, gateway.Counters("npm").Misses);
    }

    private static JsonObject Locked(NpmTestPackage package) => new()
    {
        ["version"] = package.Version,
        ["resolved"] = $"https://{Host}{package.TarballPath}",
        ["integrity"] = package.Integrity,
    };

    private void AssertInstalled(string project)
    {
        var modules = Path.Combine(project, "node_modules");
        Assert.Equal(_app.IndexJs, File.ReadAllText(Path.Combine(modules, "cr-app", "index.js")));
        Assert.Equal(_lib11.IndexJs, File.ReadAllText(Path.Combine(modules, "@cr", "lib", "index.js")));
        var lib = JsonNode.Parse(File.ReadAllText(Path.Combine(modules, "@cr", "lib", "package.json")))!;
        Assert.Equal("1.1.0", (string?)lib["version"]);
    }

    private string Project(string name)
    {
        var directory = Directory.CreateDirectory(Path.Combine(_work.Path, name, "project")).FullName;
        File.WriteAllText(
            Path.Combine(directory, "package.json"),
            """{"name": "cr-test-project", "version": "1.0.0", "private": true, "dependencies": {"cr-app": "^1.0.0"}}""");
        return directory;
    }

    private string Home(string name) => Path.Combine(_work.Path, name, "home");

    private string Cache(string name) => Path.Combine(_work.Path, name, "npm-cache");

    private async Task<GatewayHarness> StartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            // npm follows the tarball links the gateway writes, so the gateway must know its own address up front.
            var port = FreePort.Next();
            try
            {
                return await GatewayHarness.StartAsync(
                    new Dictionary<string, Uri> { [Host] = _registry.BaseUri },
                    $"[\"{Host}:443\"]",
                    o => o with { ListenEndpoints = [new IPEndPoint(IPAddress.Loopback, port)], PublicBaseUrl = new Uri($"http://127.0.0.1:{port}") });
            }
            catch (IOException) when (attempt < 5)
            {
                // The port was taken between FreePort.Next and the bind; try another.
            }
        }
    }
}
