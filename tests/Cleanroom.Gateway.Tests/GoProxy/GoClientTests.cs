using System.Diagnostics;
using System.Text;
using Cleanroom.Gateway.Tests.Server;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.GoProxy;

/// <summary>
/// The real go command (golang-go, /usr/bin/go) downloading modules through the gateway's /goproxy/ route, with a
/// static GOPROXY tree on loopback as proxy.golang.org. The go command only ever talks to the gateway on loopback:
/// GOPROXY names nothing else, and HTTP(S)_PROXY points at a closed loopback port so that any other host it might
/// try fails locally instead of reaching the internet.
/// </summary>
public sealed class GoClientTests : IAsyncLifetime
{
    private const string GoBinary = "/usr/bin/go";
    private readonly FileServer _proxy = new();
    private readonly Scratch _work = new();

    public Task InitializeAsync()
    {
        GoModuleTree.Add(_proxy, "example.test/hello", "v1.0.0", "v1.1.0");
        GoModuleTree.Add(_proxy, "example.test/Upper", "v1.0.0");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        _work.Dispose();
    }

    [Fact]
    public async Task Go_mod_download_works_through_the_gateway_and_a_fresh_module_cache_is_served_from_the_gateway_cache()
    {
        await using var gateway = await GoProxyGateway.StartAsync(_proxy.BaseUri);
        var first = await GoAsync(gateway, "cache1", verifySums: false, "mod", "download", "-json", "example.test/hello@v1.0.0", "example.test/Upper@v1.0.0");
        Assert.True(first.ExitCode == 0, first.Output + gateway.Log);
        AssertExtracted("cache1", "example.test/hello@v1.0.0", "hello.go", GoModuleFiles.Source("example.test/hello", "v1.0.0"));
        AssertExtracted("cache1", "example.test/!upper@v1.0.0", "upper.go", GoModuleFiles.Source("example.test/Upper", "v1.0.0"));
        var fetched = _proxy.Requests.Count;
        Assert.True(fetched >= 4, string.Join("\n", _proxy.Requests.Select(r => r.PathAndQuery)));
        Assert.Contains(_proxy.Requests, r => r.PathAndQuery == "/example.test/!upper/@v/v1.0.0.zip");

        // A fresh module cache (a new sandbox, say): every file comes from the gateway's cache.
        var second = await GoAsync(gateway, "cache2", verifySums: false, "mod", "download", "-json", "example.test/hello@v1.0.0", "example.test/Upper@v1.0.0");
        Assert.True(second.ExitCode == 0, second.Output + gateway.Log);
        AssertExtracted("cache2", "example.test/hello@v1.0.0", "hello.go", GoModuleFiles.Source("example.test/hello", "v1.0.0"));
        Assert.Equal(fetched, _proxy.Requests.Count);
        Assert.True(gateway.Counters().Hits >= 4, gateway.Counters().ToString());
    }

    [Fact]
    public async Task Go_resolves_latest_from_the_version_list_and_reports_a_missing_module_with_the_proxy_404()
    {
        await using var gateway = await GoProxyGateway.StartAsync(_proxy.BaseUri);
        var latest = await GoAsync(gateway, "cache1", verifySums: false, "list", "-m", "-json", "example.test/hello@latest");
        Assert.True(latest.ExitCode == 0, latest.Output + gateway.Log);
        Assert.Contains("\"Version\": \"v1.1.0\"", latest.Output, StringComparison.Ordinal);

        var missing = await GoAsync(gateway, "cache1", verifySums: false, "mod", "download", "example.test/absent@v1.0.0");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("404 Not Found", missing.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_sum_golang_org_in_the_policy_go_stops_with_the_gateway_refusal_instead_of_skipping_verification()
    {
        await using var gateway = await GoProxyGateway.StartAsync(_proxy.BaseUri, allow: "[\"proxy.golang.org:443\"]");
        var result = await GoAsync(gateway, "cache1", verifySums: true, "mod", "download", "example.test/hello@v1.0.0");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("/sumdb/sum.golang.org/supported", result.Output, StringComparison.Ordinal);
        Assert.Contains("host_not_allowed", result.Output, StringComparison.Ordinal);
        Assert.Contains("403", result.Output, StringComparison.Ordinal);
        Assert.Contains("does not allow sum.golang.org:443", result.Output, StringComparison.Ordinal);
        Assert.Contains(gateway.Audit.Refusals, r => r.Host == "sum.golang.org" && r.Reason == "host_not_allowed");
    }

    private void AssertExtracted(string cache, string directory, string file, string content)
    {
        var path = Path.Combine(_work.Path, cache, "mod", directory, file);
        Assert.True(File.Exists(path), path);
        Assert.Equal(content, File.ReadAllText(path));
    }

    /// <summary>
    /// Runs go in a module directory under the scratch directory with HOME, GOPATH, GOCACHE and the module cache
    /// (<paramref name="cache"/>) in temporary directories. The test modules are not in the public checksum database,
    /// so GONOSUMDB covers them unless <paramref name="verifySums"/>.
    /// </summary>
    private async Task<(int ExitCode, string Output)> GoAsync(
        GoProxyGateway gateway, string cache, bool verifySums, string command, params string[] args)
    {
        Assert.True(File.Exists(GoBinary), $"{GoBinary} is missing: scripts/install-host-deps.sh installs golang-go");
        var module = Directory.CreateDirectory(Path.Combine(_work.Path, "consumer")).FullName;
        File.WriteAllText(Path.Combine(module, "go.mod"), "module example.test/consumer\n\ngo 1.19\n");
        var home = Directory.CreateDirectory(Path.Combine(_work.Path, "home")).FullName;
        var start = new ProcessStartInfo(GoBinary)
        {
            WorkingDirectory = module,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(command);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var closed = $"http://127.0.0.1:{FreePort.Next()}";
        start.Environment.Clear();
        foreach (var (name, value) in new Dictionary<string, string>
        {
            ["PATH"] = "/usr/bin:/bin",
            ["HOME"] = home,
            ["GOENV"] = "off",
            ["GOPATH"] = Path.Combine(_work.Path, "gopath"),
            ["GOMODCACHE"] = Path.Combine(_work.Path, cache, "mod"),
            ["GOCACHE"] = Path.Combine(_work.Path, cache, "build"),
            ["GO111MODULE"] = "on",
            ["GOFLAGS"] = "-mod=mod",
            ["GOTOOLCHAIN"] = "local",
            ["GOPROXY"] = gateway.GoProxyUrl,
            ["GONOSUMDB"] = verifySums ? "" : "example.test",
            ["GOPRIVATE"] = "",
            ["GONOPROXY"] = "",
            ["HTTP_PROXY"] = closed,
            ["HTTPS_PROXY"] = closed,
            ["NO_PROXY"] = "127.0.0.1",
        })
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"go {command} {string.Join(' ', args)} did not finish in 2 minutes");
        }

        var output = new StringBuilder().Append(await stdout).Append(await stderr).ToString();
        return (process.ExitCode, $"go {command} {string.Join(' ', args)} exited {process.ExitCode}:\n{output}\n");
    }
}
