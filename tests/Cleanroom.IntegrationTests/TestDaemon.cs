extern alias daemon;

using System.Diagnostics;
using System.Net.Sockets;
using Cleanroom.Api.V1;
using daemon::Cleanroom.Daemon;
using Grpc.Net.Client;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// A real daemon in this process on a private socket and state directory, booting real QEMU microVMs from the
/// given boot assets, with API clients connected to it. Disposing it stops the daemon and fails if any QEMU process
/// or sandbox directory of its own was left behind.
/// </summary>
public sealed class TestDaemon : IAsyncDisposable
{
    private readonly string _assetsDir;
    private readonly Func<DaemonOptions, DaemonOptions> _configure;
    private CancellationTokenSource _stop = new();
    private Task<int> _daemon = Task.FromResult(0);
    private GrpcChannel? _channel;

    /// <param name="assetsDir">Boot assets from scripts/setup.sh.</param>
    /// <param name="configure">
    /// Adjusts the daemon options (e.g. a lower image size limit for a test). Warm starts are off unless a test turns
    /// them on: a template build is seconds of CPU on a 2-core machine, and the template tests cover that path.
    /// </param>
    /// <param name="stateDir">An existing directory to keep state in (e.g. a small file system); default: a new temporary one.</param>
    public TestDaemon(string assetsDir, Func<DaemonOptions, DaemonOptions>? configure = null, string? stateDir = null)
    {
        _assetsDir = assetsDir;
        _configure = configure ?? (o => o);
        StateDir = stateDir ?? Directory.CreateTempSubdirectory("cr-it-state-").FullName;
    }

    public string StateDir { get; }

    public string SocketPath => Path.Combine(StateDir, "cleanroom.sock");

    public SandboxService.SandboxServiceClient Sandboxes { get; private set; } = null!;

    public ExecutionService.ExecutionServiceClient Executions { get; private set; } = null!;

    public SystemService.SystemServiceClient System { get; private set; } = null!;

    public ImageService.ImageServiceClient Images { get; private set; } = null!;

    /// <summary>Starts (or restarts) the daemon on the same state directory and reconnects the clients.</summary>
    public async Task StartAsync()
    {
        _stop.Dispose();
        _stop = new CancellationTokenSource();
        var options = _configure(new DaemonOptions { SocketPath = SocketPath, StateDir = StateDir, AssetsDir = _assetsDir, Accel = "auto", Templates = false });
        _daemon = Task.Run(() => DaemonHost.RunAsync(options, _stop.Token));
        // Until a connection is accepted, not just until the socket file exists: bind(2) creates the file a moment
        // before listen(2), and a call made in between fails with Unavailable (seen once in CI as a test's first RPC
        // refused).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await AcceptsConnectionsAsync(SocketPath))
        {
            if (_daemon.IsCompleted)
            {
                await _daemon; // surfaces the start-up error
                throw new InvalidOperationException("the daemon exited during start-up");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the daemon did not create its socket within 30 s");
            }

            await Task.Delay(20);
        }

        _channel = CreateChannel(SocketPath);
        Sandboxes = new SandboxService.SandboxServiceClient(_channel);
        Executions = new ExecutionService.ExecutionServiceClient(_channel);
        System = new SystemService.SystemServiceClient(_channel);
        Images = new ImageService.ImageServiceClient(_channel);
    }

    /// <summary>Stops the daemon the way SIGTERM does: sandboxes are stopped and recorded.</summary>
    public async Task StopAsync()
    {
        _channel?.Dispose();
        await _stop.CancelAsync();
        await _daemon.WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>QEMU processes whose command line names this daemon's state directory (or one sandbox).</summary>
    public List<int> QemuProcesses(string? sandboxId = null) =>
        Process.GetProcessesByName("qemu-system-x86_64")
            .Where(p =>
            {
                var cmdline = File.ReadAllText($"/proc/{p.Id}/cmdline");
                return cmdline.Contains(StateDir, StringComparison.Ordinal) && (sandboxId is null || cmdline.Contains(sandboxId, StringComparison.Ordinal));
            })
            .Select(p => p.Id)
            .ToList();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
        var leaked = QemuProcesses();
        var sandboxesDir = Path.Combine(StateDir, "sandboxes");
        var leftoverDirs = Directory.Exists(sandboxesDir) ? Directory.GetDirectories(sandboxesDir) : [];
        foreach (var pid in leaked)
        {
            Process.GetProcessById(pid).Kill();
        }

        // The workspace staging directory (in /dev/shm) is the run's own: gone once the daemon stopped.
        var staging = new DaemonOptions { SocketPath = SocketPath, StateDir = StateDir }.EffectiveWorkspaceStagingDir;
        var stagingLeft = staging is not null && Directory.Exists(staging);
        Directory.Delete(StateDir, recursive: true);
        if (leaked.Count > 0 || leftoverDirs.Length > 0 || stagingLeft)
        {
            throw new InvalidOperationException($"the daemon leaked {leaked.Count} QEMU processes, {leftoverDirs.Length} sandbox directories{(stagingLeft ? " and its workspace staging directory " + staging : "")}");
        }
    }

    private static async Task<bool> AcceptsConnectionsAsync(string socketPath)
    {
        if (!File.Exists(socketPath))
        {
            return false;
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static GrpcChannel CreateChannel(string socketPath) =>
        GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, ct) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                },
            },
            MaxReceiveMessageSize = 16 * 1024 * 1024,
        });
}
