using System.Globalization;
using Cleanroom.Daemon;
using Cleanroom.Daemon.Admission;
using Cleanroom.Daemon.Events;
using Cleanroom.Daemon.Executions;
using Cleanroom.Daemon.Files;
using Cleanroom.Daemon.Hosting;
using Cleanroom.Daemon.Sandboxes;
using Cleanroom.Daemon.State;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Gateway.Cache;
using Cleanroom.Guest.Wire.Messages;
using Cleanroom.Images;
using Cleanroom.Vm;
using Cleanroom.Vm.Assets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.ControlApi.Bench;

/// <summary>
/// The daemon side, run in a process of its own (this executable with <see cref="ServeFlag"/>): the control API wired
/// as the daemon wires it (<see cref="Daemon.Hosting.ControlApi"/>: listeners, protocols, interceptors) on a unix socket
/// and an https listener with a generated certificate, over the real sandbox manager, state and output logs with the
/// tests' fake VMs. Before it says it is ready it runs one command that writes the stream benchmark's output, so
/// the streams read a finished log as a client replaying a job's output would.
/// </summary>
internal static class BenchDaemon
{
    public const string ServeFlag = "--serve-daemon";

    /// <summary>What the daemon prints on stdout once it serves.</summary>
    public sealed record Ready(string SocketPath, Uri Https, string CertificatePath, string SandboxId, string ExecutionId);

    public static async Task ServeAsync(string root, long streamBytes)
    {
        var options = new DaemonOptions
        {
            SocketPath = Path.Combine(root, "cleanroom.sock"),
            StateDir = Path.Combine(root, "state"),
            Listeners = [ListenerSpec.Parse("https://127.0.0.1:0")],
            Network = DaemonNetworkMode.Off,
            Gateway = DaemonNetworkMode.Off,
            MinFreeDiskBytes = 0,
            DefaultVcpus = 1,
            DefaultMemoryMiB = 256,
        };
        Directory.CreateDirectory(options.StateDir);

        // The fake backend never reads the boot assets; they only have to exist.
        var assets = BootAssets.FromDirectory(Directory.CreateDirectory(Path.Combine(root, "assets")).FullName);
        foreach (var file in new[] { assets.KernelPath, assets.InitrdPath, assets.BaseImagePath })
        {
            File.WriteAllBytes(file, []);
        }

        var backend = new FakeVmBackend();
        using var store = new StateStore(Path.Combine(options.StateDir, "cleanroom.db"));
        using var events = new SandboxEventStore(Path.Combine(root, "events.db"));
        using var images = new ImageManager(new ImageManagerOptions { Root = options.EffectiveImagesDir });
        using var cache = new ContentCache(new ContentCacheOptions { RootDirectory = Path.Combine(root, "cache") });
        await using var network = new DaemonNetwork(options, events, NullLoggerFactory.Instance);
        await using var gateway = new DaemonGateway(options, network, cache, NullLoggerFactory.Instance);
        await using var manager = new SandboxManager(
            options, store, backend, () => assets, images, new DiskReserve(options.StateDir, 0),
            new ExecutionLogs(options.StateDir, NullLogger<ExecutionLogs>.Instance), NullLogger<SandboxManager>.Instance, events);

        var tls = ServerTls.Load(options, out var certificate);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => Daemon.Hosting.ControlApi.Listen(k, options.SocketPath, options.Listeners, tls));
        builder.Services.AddControlApi();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(manager);
        builder.Services.AddSingleton(events);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton<IVmBackend>(backend);
        builder.Services.AddSingleton<DaemonChecks>();
        builder.Services.AddSingleton(network);
        builder.Services.AddSingleton(gateway);
        builder.Services.AddSingleton<SandboxFiles>();
        builder.Services.AddSingleton<WorkspaceChanges>();
        await using var app = builder.Build();
        app.MapControlApi();
        await app.StartAsync();

        var sandbox = await manager.CreateAsync(new SandboxRequest(null), CancellationToken.None);
        var flood = new ExecRequest { Argv = ["flood", streamBytes.ToString(CultureInfo.InvariantCulture)] };
        var runner = await manager.StartExecutionAsync(sandbox.Id, flood, attachStdin: false, CancellationToken.None);
        await runner.Finished;

        var https = app.Urls.Single(u => u.StartsWith("https://", StringComparison.Ordinal));
        Console.WriteLine(string.Join(' ', options.SocketPath, https, certificate.Path, sandbox.Id, runner.Record.Id));
        await Console.In.ReadToEndAsync(); // the bench closes stdin when it is done
        await app.StopAsync();
        await manager.ShutdownAsync();
    }

    public static Ready Parse(string line)
    {
        var parts = line.Split(' ');
        return new Ready(parts[0], new Uri(parts[1]), parts[2], parts[3], parts[4]);
    }
}
