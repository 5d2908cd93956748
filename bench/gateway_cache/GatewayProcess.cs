using System.Diagnostics;
using System.Globalization;
using System.Net;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Gateway.Bench;

/// <summary>
/// The gateway in a process of its own (this executable with <c>--serve-gateway</c>): the same GatewayServer and
/// ContentCache the daemon runs, with the daemon's runtime settings (workstation GC), and none of the client's CPU
/// in its figures. It prints its port, serves until its standard input closes, then prints its cache-hit count.
/// </summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    public const string ServeFlag = "--serve-gateway";

    private readonly Process _process;

    private GatewayProcess(Process process, Uri baseUri)
    {
        _process = process;
        BaseUri = baseUri;
    }

    /// <summary>The <c>/fetch/files.test/</c> prefix on the gateway, which nginx stands behind.</summary>
    public Uri BaseUri { get; }

    public int Pid => _process.Id;

    /// <summary>Starts the child with its cache in <paramref name="cacheDirectory"/> and <paramref name="upstream"/> as files.test.</summary>
    public static async Task<GatewayProcess> StartAsync(string cacheDirectory, Uri upstream)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            // Run as `dotnet GatewayCacheBench.dll`: the child needs the assembly named again.
            start.ArgumentList.Add(typeof(GatewayProcess).Assembly.Location);
        }

        start.ArgumentList.Add(ServeFlag);
        start.ArgumentList.Add(cacheDirectory);
        start.ArgumentList.Add(upstream.ToString());
        var process = Process.Start(start)!;
        var line = await process.StandardOutput.ReadLineAsync()
            ?? throw new InvalidOperationException("the gateway process exited before it listened");
        var port = int.Parse(line, CultureInfo.InvariantCulture);
        return new GatewayProcess(process, new Uri($"http://127.0.0.1:{port}/fetch/files.test/"));
    }

    /// <summary>Closes the child's input (it stops) and returns the fetch route's hit count it printed.</summary>
    public async Task<long> StopAsync()
    {
        _process.StandardInput.Close();
        var hits = await _process.StandardOutput.ReadLineAsync();
        await _process.WaitForExitAsync();
        return long.Parse(hits ?? "-1", CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    /// <summary>The child's side: serve until standard input closes.</summary>
    public static async Task ServeAsync(string cacheDirectory, Uri upstream)
    {
        using var cache = new ContentCache(new ContentCacheOptions { RootDirectory = cacheDirectory, MaxTotalBytes = 4L << 30 });
        var options = new GatewayOptions
        {
            ListenEndpoints = [new IPEndPoint(IPAddress.Loopback, 0)],
            Upstreams = new Dictionary<string, Uri>(StringComparer.Ordinal) { ["files.test"] = upstream },
            RequestsPerSecondPerSandbox = 1_000_000,
            RequestBurstPerSandbox = 1_000_000,
        };
        await using var gateway = await GatewayServer.StartAsync(options, cache, new EveryoneIsOneSandbox(), new NoAudit(), NullLoggerFactory.Instance, CancellationToken.None);
        Console.WriteLine(gateway.Endpoints[0].Port.ToString(CultureInfo.InvariantCulture));
        await Console.In.ReadToEndAsync();
        Console.WriteLine(gateway.Statistics().Where(r => r.Route == "fetch").Sum(r => r.Hits).ToString(CultureInfo.InvariantCulture));
    }
}
