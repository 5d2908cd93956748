using Cleanroom.Daemon.Admission;
using Cleanroom.Daemon.Executions;
using Cleanroom.Daemon.Hosting;
using Cleanroom.Daemon.Sandboxes;
using Cleanroom.Daemon.Services;
using Cleanroom.Daemon.State;
using Cleanroom.Images;
using Cleanroom.Images.Layers;
using Cleanroom.Images.Registry;
using Cleanroom.Vm;
using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Qemu;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon;

/// <summary>
/// <c>cleanroom serve</c>: the control API on a unix socket (gRPC, gRPC-Web and Connect; see <see cref="Hosting.ControlApi"/>), the sandbox manager behind it,
/// recovery of a previous run's leftovers at start, and every sandbox stopped at shutdown.
/// </summary>
public static class DaemonHost
{
    public static async Task<int> RunAsync(DaemonOptions options, CancellationToken cancellationToken)
    {
        // Everything the daemon creates is private to its user unless it says otherwise.
        Hosting.PrivateDirectory.SetUmask(Hosting.PrivateDirectory.DaemonUmask);
        Hosting.PrivateDirectory.Ensure(options.StateDir, "the state directory", enforcePrivate: true);
        using var stateLock = Hosting.StateDirLock.Acquire(options.StateDir);
        Hosting.PrivateDirectory.Ensure(options.EffectiveCacheDir, "the cache directory", enforcePrivate: true);

        // Workspace checkouts are staged in memory; the directory is this run's alone and goes when the daemon does.
        using var workspaceStaging = new Hosting.ScratchDirectory(Hosting.PrivateDirectory.Renew(options.EffectiveWorkspaceStagingDir));
        Hosting.ControlSocket.Prepare(options.SocketPath);
        Hosting.ServerCertificate.Loaded? serverCertificate = null;
        var tls = options.Listeners.Any(l => l.Tls) ? Hosting.ServerTls.Load(options, out serverCertificate) : null;

        // The host's defaults would watch its content root (the working directory, `/` under systemd) recursively for
        // appsettings changes: an inotify watch per directory below it, and an event to process for every write
        // there, output logs included when the state directory is below it. The daemon takes no settings file, so
        // nothing is watched and the content root is the daemon's own directory.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);

        // Kestrel warns at start that a cleartext endpoint allowing HTTP/1.1 and HTTP/2 "will use HTTP/1.1"; on our
        // listeners that is untrue (CleartextProtocolDetection serves HTTP/2 by its preface), and a false warning in
        // every start's log teaches operators to ignore warnings. Kestrel's errors still show.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Error);

        // The web host logs two lines per API call at Information ("Request starting", "Request finished"): a busy
        // daemon's log was nearly all of them, and writing them cost a tenth of its CPU per command (1.8 against 2.0 ms
        // per RunExecution, side by side). Its warnings and errors still show. A more specific category in the
        // environment wins over this, so `Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics=Information`
        // brings the request lines back (README.md).
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.WebHost.ConfigureKestrel(k => Hosting.ControlApi.Listen(k, options.SocketPath, options.Listeners, tls));
        builder.Services.AddControlApi();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(_ => new StateStore(Path.Combine(options.StateDir, "cleanroom.db")));
        builder.Services.AddSingleton<IVmBackend>(sp => new QemuBackend(
            BootAssets.FromDirectory(options.AssetsDir ?? Path.Combine(options.StateDir, "assets")),
            new QemuBackendOptions { Accel = ParseAccel(options.Accel) },
            sp.GetRequiredService<ILogger<QemuBackend>>()));
        builder.Services.AddSingleton<Func<BootAssets>>(_ => () => options.AssetsDir is null
            ? throw new DaemonException(Grpc.Core.StatusCode.FailedPrecondition, ReasonCode.BackendUnavailable, "no boot assets configured: run scripts/setup.sh and start the daemon with --assets .build/assets")
            : BootAssets.Load(options.AssetsDir));
        builder.Services.AddSingleton(sp => new ImageManager(
            new ImageManagerOptions
            {
                Root = options.EffectiveImagesDir,
                Limits = new LayerLimits { MaxUnpackedBytes = options.MaxImageBytes },
                Registry = new RegistryClientOptions
                {
                    PlainHttpRegistries = options.InsecureRegistries,
                    Credentials = RegistryCredentialStore.FromDockerConfig(options.RegistryConfigPath),
                },
            },
            sp.GetRequiredService<ILogger<ImageManager>>()));
        builder.Services.AddSingleton(new DiskReserve(options.StateDir, options.MinFreeDiskBytes));
        builder.Services.AddSingleton<ExecutionLogs>(sp => new ExecutionLogs(options.StateDir, sp.GetRequiredService<ILogger<ExecutionLogs>>()));
        builder.Services.AddSingleton(_ => new Events.SandboxEventStore(Path.Combine(options.StateDir, "cleanroom.db")));
        builder.Services.AddSingleton<Hosting.DaemonNetwork>();
        builder.Services.AddSingleton<Hosting.DaemonGateway>();
        builder.Services.AddSingleton<Services.IGatewayRouteStatistics>(sp => sp.GetRequiredService<Hosting.DaemonGateway>());
        builder.Services.AddSingleton(_ => new Cleanroom.Workspaces.Repositories.RepositoryStore(new Cleanroom.Workspaces.Repositories.RepositoryStoreOptions
        {
            StoreDirectory = options.RepositoriesDir,
            GitEnvironment = options.RepositoryGitEnvironment,
        }));
        // The gateway's git route falls back on the same mirrors (one store; see docs/gateway.md).
        builder.Services.AddSingleton<Cleanroom.Gateway.Server.IGitMirrors>(sp => new Hosting.RepositoryGitMirrors(
            sp.GetRequiredService<Cleanroom.Workspaces.Repositories.RepositoryStore>()));
        // One repository store for --repo-url mirrors and the submodules the image store fetches.
        builder.Services.AddSingleton(sp => new Cleanroom.Workspaces.WorkspaceImageStore(
            new Cleanroom.Workspaces.WorkspaceStoreOptions
            {
                StoreDirectory = options.WorkspacesDir,
                MaxTreeBytes = options.MaxWorkspaceTreeBytes,
                MaxTreeEntries = options.MaxWorkspaceTreeEntries,
                MemoryStagingDirectory = workspaceStaging.Path,
            },
            sp.GetRequiredService<Cleanroom.Workspaces.Repositories.RepositoryStore>()));
        builder.Services.AddSingleton(sp => new Workspaces.WorkspaceProvisioner(
            sp.GetRequiredService<Cleanroom.Workspaces.WorkspaceImageStore>(),
            sp.GetRequiredService<Cleanroom.Workspaces.Repositories.RepositoryStore>(),
            options.MaxWorkspaceStoreBytes));
        builder.Services.AddSingleton(sp => new SandboxManager(
            options,
            sp.GetRequiredService<StateStore>(),
            sp.GetRequiredService<IVmBackend>(),
            sp.GetRequiredService<Func<BootAssets>>(),
            sp.GetRequiredService<ImageManager>(),
            sp.GetRequiredService<DiskReserve>(),
            sp.GetRequiredService<ExecutionLogs>(),
            sp.GetRequiredService<ILogger<SandboxManager>>(),
            sp.GetRequiredService<Events.SandboxEventStore>(),
            sp.GetRequiredService<Hosting.DaemonNetwork>().Networks,
            sp.GetRequiredService<Workspaces.WorkspaceProvisioner>()));
        builder.Services.AddSingleton<Files.SandboxFiles>();
        builder.Services.AddSingleton<Files.WorkspaceChanges>();
        builder.Services.AddSingleton<Retention>();
        builder.Services.AddSingleton<Hosting.DaemonChecks>();
        // The gateway's content cache; `cleanroom cache` reads and prunes it, the gateway (when it runs) serves from it.
        builder.Services.AddSingleton(_ => new Cleanroom.Gateway.Cache.ContentCache(new Cleanroom.Gateway.Cache.ContentCacheOptions
        {
            RootDirectory = options.EffectiveCacheDir,
            MaxTotalBytes = options.CacheMaxBytes,
        }));

        await using var app = builder.Build();
        app.MapControlApi();

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("cleanroom.daemon");

        // Opened now, not at its first use: reconciling it with its files takes a moment, and a cache that cannot be
        // opened should stop the start with its reason rather than fail a request later.
        var cache = app.Services.GetRequiredService<Cleanroom.Gateway.Cache.ContentCache>();

        // The network comes up before the manager exists: it decides whether sandboxes get one.
        var network = app.Services.GetRequiredService<Hosting.DaemonNetwork>();
        await network.StartAsync(cancellationToken);
        if (network.DisabledReason is { } noNetwork)
        {
            logger.LogWarning("sandboxes get no network: {Reason}", noNetwork);
        }

        // The gateway runs while the network does (it finds sandboxes by their guests' addresses).
        var gateway = app.Services.GetRequiredService<Hosting.DaemonGateway>();
        await gateway.StartAsync(cancellationToken);

        var sandboxes = app.Services.GetRequiredService<SandboxManager>();
        await sandboxes.RecoverAsync(cancellationToken);

        // The socket is created by bind(2) under the umask: 0600 from its first moment, not narrowed afterwards.
        Hosting.PrivateDirectory.SetUmask(Hosting.PrivateDirectory.SocketUmask);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException ex) when (options.Listeners.Count > 0)
        {
            // Kestrel's bind failure names the address ("address already in use"); say it as the daemon's own refusal.
            throw new DaemonException(Grpc.Core.StatusCode.FailedPrecondition, ReasonCode.FailedPrecondition, ex.Message);
        }
        finally
        {
            Hosting.PrivateDirectory.SetUmask(Hosting.PrivateDirectory.DaemonUmask);
        }

        Hosting.ControlSocket.Restrict(options.SocketPath);
        logger.LogInformation("cleanroom daemon {Version} listening on unix://{Socket} (state {State})", Hosting.DaemonVersion.Current, options.SocketPath, options.StateDir);
        LogListeners(logger, options, serverCertificate, tls);
        if (options.Listeners.Any(l => l.Port == 0))
        {
            logger.LogInformation("network listeners bound at {Addresses}", string.Join(", ", app.Urls.Where(u => !u.Contains("unix:", StringComparison.Ordinal))));
        }


        // Decide KVM or TCG now, so the first sandbox does not pay for the probe boot.
        var backend = app.Services.GetRequiredService<IVmBackend>();
        _ = Task.Run(async () =>
        {
            var accel = await backend.ResolveAccelAsync(CancellationToken.None);
            logger.LogInformation("accelerator: {Mode} ({Reason})", accel.Mode, accel.Reason);
        }, CancellationToken.None);

        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        var retention = app.Services.GetRequiredService<Retention>().RunAsync(stop.Token);
        await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);

        await retention.ContinueWith(_ => { }, TaskScheduler.Default);
        if (options.KeepSandboxesOnStop)
        {
            logger.LogInformation("shutting down: leaving sandboxes running for the next daemon (--on-stop keep)");
            if (network.Networks is { } kept)
            {
                kept.KeepOnDispose = true;
            }

            await sandboxes.LeaveRunningAsync();
        }
        else
        {
            logger.LogInformation("shutting down: stopping sandboxes");
            await sandboxes.ShutdownAsync();
        }

        // A workspace image still being flushed would be rebuilt at the next start; a short wait usually saves that.
        await app.Services.GetRequiredService<Cleanroom.Workspaces.WorkspaceImageStore>().SettledAsync().WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None)
            .ContinueWith(_ => { }, TaskScheduler.Default);
        await gateway.DisposeAsync();
        await network.DisposeAsync();
        await app.StopAsync(CancellationToken.None);
        cache.Dispose();
        app.Services.GetRequiredService<StateStore>().Dispose();
        app.Services.GetRequiredService<Events.SandboxEventStore>().Dispose();
        app.Services.GetRequiredService<ImageManager>().Dispose();
        File.Delete(options.SocketPath);
        return 0;
    }

    private static void LogListeners(ILogger logger, DaemonOptions options, Hosting.ServerCertificate.Loaded? certificate, Hosting.ServerTls? tls)
    {
        foreach (var listener in options.Listeners)
        {
            logger.LogInformation("also listening on {Listener}{Note}", listener.Display,
                listener.Tls ? (tls!.RequiresClientCertificate ? " (TLS 1.3, client certificates required)" : " (TLS 1.3)")
                : listener.IsLoopback ? " (plain http, loopback)" : " (plain http, reachable from the network: --insecure)");
        }

        if (certificate is not null)
        {
            logger.LogInformation("TLS certificate {Path} ({How}), SHA-256 fingerprint {Fingerprint}", certificate.Path,
                certificate.Generated ? "generated now, self-signed" : options.TlsCertFile is null ? "generated earlier, self-signed" : "from --tls-cert", certificate.Fingerprint);
        }
    }

    private static AccelMode ParseAccel(string value) => value.ToLowerInvariant() switch
    {
        "auto" => AccelMode.Auto,
        "kvm" => AccelMode.Kvm,
        "tcg" => AccelMode.Tcg,
        _ => throw new DaemonException(Grpc.Core.StatusCode.InvalidArgument, ReasonCode.InvalidArgument, $"--accel must be auto, kvm or tcg (got '{value}')"),
    };
}
