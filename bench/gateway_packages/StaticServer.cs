using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Gateway.Bench;

/// <summary>
/// The static upstream: Kestrel on loopback serving the files under one directory as they are (a path ending in '/'
/// is its index.html), the way a CDN-fronted registry serves a GOPROXY tree or a PyPI index. It counts requests so
/// the bench can tell what the gateway fetched upstream and what it answered from its cache.
/// </summary>
internal sealed class StaticServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _root;
    private long _requests;
    private long _artifacts;

    private StaticServer(WebApplication app, string root)
    {
        _app = app;
        _root = root;
    }

    /// <summary>The server's base address, http://127.0.0.1:PORT/.</summary>
    public Uri BaseUri { get; private set; } = null!;

    /// <summary>Requests answered so far (any path, any status).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Requests for package archives (.zip, .whl, .tgz) so far.</summary>
    public long Artifacts => Interlocked.Read(ref _artifacts);

    public static async Task<StaticServer> StartAsync(string root)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new StaticServer(app, Path.GetFullPath(root));
        app.Run(server.ServeAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.BaseUri = new Uri(new Uri(address).GetLeftPart(UriPartial.Authority) + "/");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ServeAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        var path = context.Request.Path.Value ?? "/";
        if (path.EndsWith(".zip", StringComparison.Ordinal) || path.EndsWith(".whl", StringComparison.Ordinal) || path.EndsWith(".tgz", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _artifacts);
        }

        // The bench wrote every file itself, but a path still must not climb out of the root.
        var file = Path.GetFullPath(Path.Join(_root, path.EndsWith('/') ? path + "index.html" : path));
        if (context.Request.Method != HttpMethods.Get || !file.StartsWith(_root + "/", StringComparison.Ordinal) || !File.Exists(file))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentType = file.EndsWith(".html", StringComparison.Ordinal) ? "text/html; charset=utf-8" : "application/octet-stream";
        context.Response.ContentLength = new FileInfo(file).Length;
        await context.Response.SendFileAsync(file, context.RequestAborted);
    }
}
