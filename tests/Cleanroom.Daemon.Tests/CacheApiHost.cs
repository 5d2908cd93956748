using Cleanroom.Client;
using Cleanroom.Daemon.Services;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The daemon's real <see cref="CacheApi"/> and <see cref="ErrorInterceptor"/> on Kestrel over a temporary unix socket,
/// serving a real <see cref="ContentCache"/>, reached through the CLI's own <see cref="DaemonConnection"/>.
/// </summary>
internal sealed class CacheApiHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CacheApiHost(WebApplication app, DaemonConnection connection)
    {
        _app = app;
        Connection = connection;
    }

    public DaemonConnection Connection { get; }

    public static async Task<CacheApiHost> StartAsync(
        ContentCache cache, string directory, Func<IReadOnlyList<GatewayRouteCounters>>? routes = null,
        Cleanroom.Workspaces.Repositories.RepositoryStore? repositories = null)
    {
        var socket = Path.Combine(directory, "api.sock");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socket, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.Interceptors.Add<ErrorInterceptor>());
        builder.Services.AddSingleton(cache);
        builder.Services.AddSingleton(new DaemonOptions { SocketPath = socket, StateDir = directory, CacheDir = cache.Options.RootDirectory });
        if (repositories is not null)
        {
            builder.Services.AddSingleton(repositories);
        }

        if (routes is not null)
        {
            builder.Services.AddSingleton<IGatewayRouteStatistics>(new RunningGateway(routes));
        }

        var app = builder.Build();
        app.MapGrpcService<CacheApi>();
        await app.StartAsync();
        return new CacheApiHost(app, DaemonConnection.Open(DaemonEndpoint.Parse("unix://" + socket)));
    }

    public async ValueTask DisposeAsync()
    {
        Connection.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A gateway that runs and reports the given counters.</summary>
    private sealed class RunningGateway(Func<IReadOnlyList<GatewayRouteCounters>> routes) : IGatewayRouteStatistics
    {
        public bool IsRunning => true;

        public IReadOnlyList<GatewayRouteCounters> Statistics() => routes();
    }
}
