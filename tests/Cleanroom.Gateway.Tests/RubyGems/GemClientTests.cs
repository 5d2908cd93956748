using Cleanroom.Gateway.Tests.Server;

namespace Cleanroom.Gateway.Tests.RubyGems;

/// <summary>The real <c>gem</c> and <c>bundle</c> fetching through the gateway from a static gem server on loopback.</summary>
public sealed class GemClientTests : IAsyncLifetime
{
    private readonly Scratch _work = new();
    private RubyGemsIndex _index = null!;

    public async Task InitializeAsync() => _index = await RubyGemsIndex.BuildAsync();

    public async Task DisposeAsync()
    {
        await _index.DisposeAsync();
        _work.Dispose();
    }

    [Fact]
    public async Task Gem_fetch_downloads_through_the_gateway_and_a_second_run_is_served_from_the_cache()
    {
        await using var gateway = await GatewayHarness.StartAsync(_index.Upstreams, "[\"rubygems.org:443\"]");
        for (var run = 1; run <= 2; run++)
        {
            var directory = Directory.CreateDirectory(Path.Combine(_work.Path, $"fetch-{run}")).FullName;
            var (code, output) = await RubyTools.RunAsync(
                RubyTools.Gem, directory, Path.Combine(_work.Path, $"home-{run}"), null,
                "fetch", RubyGemsIndex.Name, "-v", RubyGemsIndex.Version,
                "--clear-sources", "--source", $"{gateway.BaseUri}rubygems/rubygems.org/");
            Assert.True(code == 0, $"gem fetch exited {code}:\n{output}\n{gateway.Log}");
            Assert.Equal(_index.Gem, await File.ReadAllBytesAsync(Path.Combine(directory, RubyGemsIndex.GemFile)));
        }

        Assert.Equal(1, _index.Server.Count("/gems/"));
        var counters = gateway.Counters("rubygems");
        Assert.True(counters.Hits >= 2, $"hits {counters.Hits}");
    }

    [Fact]
    public async Task Bundle_install_through_the_mirror_variable_uses_the_compact_index_and_installs_the_gem()
    {
        await using var gateway = await GatewayHarness.StartAsync(_index.Upstreams, "[\"rubygems.org:443\"]");
        for (var run = 1; run <= 2; run++)
        {
            var app = Directory.CreateDirectory(Path.Combine(_work.Path, $"app-{run}")).FullName;
            await File.WriteAllTextAsync(
                Path.Combine(app, "Gemfile"), $"source \"https://rubygems.org\"\ngem \"{RubyGemsIndex.Name}\", \"{RubyGemsIndex.Version}\"\n");
            var environment = new Dictionary<string, string>
            {
                // What Guest/RubyGemsEnvironment sets in a sandbox, with the test gateway's address.
                ["BUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/"] = $"{gateway.BaseUri}rubygems/rubygems.org",
                ["BUNDLE_GEMFILE"] = Path.Combine(app, "Gemfile"),
                ["BUNDLE_PATH"] = Path.Combine(app, "vendor"),
                ["BUNDLE_RETRY"] = "0",
            };
            var (code, output) = await RubyTools.RunAsync(RubyTools.Bundle, app, Path.Combine(_work.Path, $"bundle-home-{run}"), environment, "install");
            Assert.True(code == 0, $"bundle install exited {code}:\n{output}\n{gateway.Log}");
            var installed = Directory.EnumerateFiles(Path.Combine(app, "vendor"), $"{RubyGemsIndex.Name}.rb", SearchOption.AllDirectories);
            Assert.Single(installed);
        }

        Assert.Equal(1, _index.Server.Count("/versions"));
        Assert.Equal(1, _index.Server.Count($"/info/{RubyGemsIndex.Name}"));
        Assert.Equal(1, _index.Server.Count("/gems/"));
    }
}
