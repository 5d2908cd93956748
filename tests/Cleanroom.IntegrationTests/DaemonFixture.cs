using System.Net.Sockets;
using Cleanroom.Api.V1;
using Cleanroom.Daemon;
using Grpc.Net.Client;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// A real daemon (in this process) on a private socket and state directory, booting real QEMU microVMs from the
/// assets scripts/setup.sh built. Tests share it, and share one booted sandbox where that is safe, because every
/// boot costs seconds under TCG.
/// </summary>
public sealed class DaemonFixture : IAsyncLifetime
{
    private CancellationTokenSource _stop = new();
    private Task<int> _daemon = Task.FromResult(0);
    private GrpcChannel? _channel;

    public string StateDir { get; } = Directory.CreateTempSubdirectory("cr-it-state-").FullName;

    public string SocketPath => Path.Combine(StateDir, "cleanroom.sock");

    public SandboxService.SandboxServiceClient Sandboxes { get; private set; } = null!;

    public ExecutionService.ExecutionServiceClient Executions { get; private set; } = null!;

    public SystemService.SystemServiceClient System { get; private set; } = null!;

    /// <summary>A READY sandbox for tests that only run commands in it.</summary>
    public string SharedSandboxId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (!File.Exists(Path.Combine(RepoPaths.Assets, "assets.json")))
        {
            throw new InvalidOperationException($"boot assets are missing in {RepoPaths.Assets}: run scripts/setup.sh first");
        }

        await StartDaemonAsync();
        SharedSandboxId = (await Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox.SandboxId;
    }

    public async Task ReplaceSharedSandboxAsync() =>
        SharedSandboxId = (await Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox.SandboxId;

    /// <summary>Starts (or restarts) the daemon on the same state directory and reconnects the clients.</summary>
    public async Task StartDaemonAsync()
    {
        _stop = new CancellationTokenSource();
        var options = new DaemonOptions { SocketPath = SocketPath, StateDir = StateDir, AssetsDir = RepoPaths.Assets, Accel = "auto" };
        _daemon = Task.Run(() => DaemonHost.RunAsync(options, _stop.Token));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(SocketPath))
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
    }

    /// <summary>Stops the daemon the way SIGTERM does: sandboxes are stopped and recorded.</summary>
    public async Task StopDaemonAsync()
    {
        _channel?.Dispose();
        await _stop.CancelAsync();
        await _daemon.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        await StopDaemonAsync();
        var leaked = global::System.Diagnostics.Process.GetProcessesByName("qemu-system-x86_64")
            .Where(p => File.ReadAllText($"/proc/{p.Id}/cmdline").Contains(StateDir, StringComparison.Ordinal))
            .ToList();
        var leftoverDirs = Directory.Exists(Path.Combine(StateDir, "sandboxes")) ? Directory.GetDirectories(Path.Combine(StateDir, "sandboxes")) : [];
        foreach (var process in leaked)
        {
            process.Kill();
        }

        Directory.Delete(StateDir, recursive: true);
        if (leaked.Count > 0 || leftoverDirs.Length > 0)
        {
            throw new InvalidOperationException($"the daemon leaked {leaked.Count} QEMU processes and {leftoverDirs.Length} sandbox directories");
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

[CollectionDefinition(Name)]
public sealed class DaemonCollection : ICollectionFixture<DaemonFixture>
{
    public const string Name = "daemon";
}
