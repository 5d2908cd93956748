using System.Diagnostics;
using Cleanroom.Gateway.Tests.Server;

namespace Cleanroom.Gateway.Tests.PyPi;

/// <summary>The real pip (<c>/usr/bin/python3 -m pip</c>) downloading through the gateway from a static index on loopback.</summary>
public sealed class PipClientTests : IAsyncLifetime
{
    private const string Python = "/usr/bin/python3";
    private readonly PyPiIndex _index = new();
    private readonly Scratch _work = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _index.DisposeAsync();
        _work.Dispose();
    }

    [Fact]
    public async Task Pip_downloads_a_wheel_through_the_gateway_and_a_second_run_is_served_from_the_cache()
    {
        await using var gateway = await GatewayHarness.StartAsync(_index.Upstreams, "[\"pypi.org:443\", \"files.pythonhosted.org:443\"]");
        for (var run = 1; run <= 2; run++)
        {
            var target = Path.Combine(_work.Path, $"download-{run}");
            var (code, output) = await PipDownloadAsync(gateway, run, target);
            Assert.True(code == 0, $"pip exited {code}:\n{output}\n{gateway.Log}");
            var file = Path.Combine(target, _index.FileName);
            Assert.True(File.Exists(file), $"pip left no {_index.FileName}:\n{output}");
            Assert.Equal(_index.Wheel, await File.ReadAllBytesAsync(file));
        }

        // One upstream request for the page and one for the file; the second run was answered from the cache.
        Assert.Equal(1, _index.Server.Count($"/simple/{PyPiIndex.Project}/"));
        Assert.Equal(1, _index.Server.Count(_index.FilePath));
        var counters = gateway.Counters("pypi");
        Assert.Equal(2, counters.Misses);
        Assert.True(counters.Hits >= 2, $"hits {counters.Hits}");

        // pip asked for PEP 691 JSON first (the variant the index answered with).
        Assert.Contains("application/vnd.pypi.simple.v1+json", _index.Server.Requests[0].Header("Accept") ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pip_follows_the_relative_links_of_a_plain_html_index()
    {
        await using var plain = new PyPiIndex(plainRelative: true);
        await using var gateway = await GatewayHarness.StartAsync(plain.Upstreams, "[\"pypi.org:443\", \"files.pythonhosted.org:443\"]");
        var target = Path.Combine(_work.Path, "plain");
        var (code, output) = await PipDownloadAsync(gateway, 3, target);
        Assert.True(code == 0, $"pip exited {code}:\n{output}\n{gateway.Log}");
        Assert.Equal(plain.Wheel, await File.ReadAllBytesAsync(Path.Combine(target, plain.FileName)));
        Assert.Equal(1, plain.Server.Count(plain.FilePath));
        using var page = await gateway.Http.GetAsync($"/pypi/pypi.org/simple/{PyPiIndex.Project}/");
        Assert.Contains($"<a href=\"{plain.FileName}#sha256={plain.Sha256}\">", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<(int Code, string Output)> PipDownloadAsync(GatewayHarness gateway, int run, string target)
    {
        if (!File.Exists(Python))
        {
            Assert.Fail($"{Python} is missing; scripts/install-host-deps.sh installs python3 and python3-pip");
        }

        var home = Directory.CreateDirectory(Path.Combine(_work.Path, $"home-{run}")).FullName;
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "-m", "pip", "download", "--isolated", "--no-deps", "--disable-pip-version-check", "--no-input",
            "--timeout", "30", "--retries", "0",
            "--index-url", $"{gateway.BaseUri}pypi/pypi.org/simple/", "--trusted-host", "127.0.0.1",
            "--cache-dir", Path.Combine(home, "pip-cache"), "-d", target, $"{PyPiIndex.Project}=={PyPiIndex.Version}",
        })
        {
            start.ArgumentList.Add(argument);
        }

        // Nothing from this host's configuration or proxies: the one server pip talks to is the gateway on loopback.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("PIP_", StringComparison.OrdinalIgnoreCase)
            || k.Contains("proxy", StringComparison.OrdinalIgnoreCase) || k.StartsWith("PYTHON", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["HOME"] = home;
        start.Environment["XDG_CACHE_HOME"] = Path.Combine(home, ".cache");
        start.Environment["XDG_CONFIG_HOME"] = Path.Combine(home, ".config");
        start.Environment["PIP_CONFIG_FILE"] = "/dev/null";
        start.Environment["PIP_CACHE_DIR"] = Path.Combine(home, "pip-cache");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("pip did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
