using Cleanroom.Api.V1;
using Cleanroom.Daemon.Connect;
using Cleanroom.Daemon.Services;
using Grpc.AspNetCore.Server;
using Grpc.AspNetCore.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// The control API as every listener serves it: the cleanroom.v1 services over gRPC (HTTP/2), gRPC-Web and Connect
/// (HTTP/1.1 or HTTP/2) on the same paths, dispatched to the same service objects, plus <c>GET /healthz</c>.
/// The daemon and the tests that host the API both wire it through here.
/// </summary>
internal static class ControlApi
{
    /// <summary>The body of a healthy <c>GET /healthz</c>.</summary>
    public const string HealthyBody = "ok\n";

    /// <summary>
    /// A unix socket listener for all three protocols: HTTP/1.1, and HTTP/2 for clients that start with its preface.
    /// </summary>
    public static void Listen(KestrelServerOptions kestrel, string socketPath) => Listen(kestrel, socketPath, [], null);

    /// <summary>
    /// The unix socket and the network listeners: plain http ones detect prior-knowledge HTTP/2 as the socket does;
    /// https ones choose HTTP/2 or HTTP/1.1 by ALPN and handshake as <paramref name="tls"/> says.
    /// </summary>
    public static void Listen(KestrelServerOptions kestrel, string socketPath, IEnumerable<ListenerSpec> listeners, ServerTls? tls)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(listeners);

        // The HTTP/2 connections are marked as ALPN-chosen (see CleartextProtocolDetection); their :scheme is "http".
        kestrel.AllowAlternateSchemes = true;
        kestrel.ListenUnixSocket(socketPath, l => l.UseHttp1AndPriorKnowledgeHttp2());
        foreach (var listener in listeners)
        {
            kestrel.Listen(listener.Address, listener.Port, l =>
            {
                if (!listener.Tls)
                {
                    l.UseHttp1AndPriorKnowledgeHttp2();
                    return;
                }

                l.Protocols = HttpProtocols.Http1AndHttp2;
                l.UseHttps((tls ?? throw new InvalidOperationException("an https listener needs the server's TLS settings")).Adapter());
            });
        }
    }

    /// <summary>
    /// gRPC with the error interceptor and the shared message limits (the response limit from the registered
    /// <see cref="DaemonOptions"/>), and the Connect method table.
    /// </summary>
    public static IServiceCollection AddControlApi(this IServiceCollection services)
    {
        services.AddGrpc(o =>
        {
            o.Interceptors.Add<ErrorInterceptor>();
            o.MaxReceiveMessageSize = ControlApiLimits.MaxMessageBytes;
        });
        services.AddOptions<GrpcServiceOptions>().Configure<DaemonOptions>((o, daemon) => o.MaxSendMessageSize = daemon.MaxResponseMessageBytes);
        services.AddSingleton(new ConnectMethods()
            .Add<SandboxApi>(SandboxService.BindService, SandboxService.Descriptor)
            .Add<ExecutionApi>(ExecutionService.BindService, ExecutionService.Descriptor)
            .Add<SystemApi>(SystemService.BindService, SystemService.Descriptor)
            .Add<ImageApi>(ImageService.BindService, ImageService.Descriptor)
            .Add<CacheApi>(CacheService.BindService, CacheService.Descriptor));
        return services;
    }

    /// <summary>The protocol middleware, the services' gRPC endpoints and the health check.</summary>
    public static void MapControlApi(this WebApplication app)
    {
        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        app.UseMiddleware<ConnectEndpoint>();
        app.MapGrpcService<SandboxApi>();
        app.MapGrpcService<ExecutionApi>();
        app.MapGrpcService<SystemApi>();
        app.MapGrpcService<ImageApi>();
        app.MapGrpcService<CacheApi>();
        MapHealth(app);
    }

    /// <summary>
    /// 200 with a short body while the daemon serves. Access control is the socket's permissions and, on network
    /// listeners, TLS client certificates when required; anyone who reaches a listener can read this.
    /// </summary>
    private static void MapHealth(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/healthz", (HttpContext http) =>
        {
            http.Response.ContentType = "text/plain; charset=utf-8";
            return http.Response.WriteAsync(HealthyBody, http.RequestAborted);
        });
}
