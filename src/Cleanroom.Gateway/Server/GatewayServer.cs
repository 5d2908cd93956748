using System.Net;
using System.Text;
using Cleanroom.Escaping;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Credentials;
using Cleanroom.Gateway.Routes;
using Cleanroom.Gateway.Routes.Npm;
using Cleanroom.Gateway.Routes.Oci;
using Cleanroom.Gateway.Routes.PyPi;
using Cleanroom.Gateway.Routes.RubyGems;
using Cleanroom.Gateway.Upstream;
using Cleanroom.Images.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using BadHttpRequestException = Microsoft.AspNetCore.Http.BadHttpRequestException;

namespace Cleanroom.Gateway.Server;

/// <summary>
/// The guest-facing gateway: one HTTP listener for every sandbox. Each request is tied to its sandbox by source
/// address, canonicalised, checked against that sandbox's policy and limits, then served from the cache or upstream
/// with host-side credentials. The daemon owns one while sandbox networking runs.
/// </summary>
public sealed class GatewayServer : IAsyncDisposable
{
    /// <summary>The response header that names why a request was refused.</summary>
    public const string ReasonHeader = "X-Cleanroom-Reason-Code";

    /// <summary>Longest wait for a request's line and headers.</summary>
    public static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long disposal waits for requests in flight before it cuts them off.</summary>
    public static readonly TimeSpan ShutdownWait = TimeSpan.FromSeconds(10);

    private const int MaxAuditedPathLength = 512;

    private readonly GatewayOptions _options;
    private readonly IGatewayClients _clients;
    private readonly IGatewayAudit _audit;
    private readonly ILogger _logger;
    private readonly SandboxLimiter _limiter;
    private readonly RouteCounterSet _counters = new();
    private readonly UpstreamClient _upstream;
    private readonly GitRoute _git;
    private readonly FetchRoute _fetch;
    private readonly OciPullThrough _oci;
    private readonly RegistryRoute _registry;
    private readonly NpmRoute _npm;
    private readonly GoProxyRoute _goproxy;
    private readonly PyPiRoute _pypi;
    private readonly RubyGemsRoute _rubygems;
    private WebApplication? _app;
    private int _disposed;
    private int _inFlight;

    private GatewayServer(
        GatewayOptions options, ContentCache cache, IGatewayClients clients, IGatewayAudit audit, ILoggerFactory loggers, GatewayCredentials credentials,
        RegistryCredentialStore registryCredentials)
    {
        Cache = cache;
        _options = options;
        _clients = clients;
        _audit = audit;
        _logger = loggers.CreateLogger("Cleanroom.Gateway");
        _limiter = new SandboxLimiter(
            options.MaxConcurrentRequestsPerSandbox, options.RequestsPerSecondPerSandbox, options.RequestBurstPerSandbox, TimeProvider.System);
        _upstream = new UpstreamClient(options, credentials, cache.Options.MaxObjectBytes);
        var cached = new CachedUpstream(cache, _upstream, _logger);
        _git = new GitRoute(cache, _upstream, cached, options, _counters.For("git"), _logger);
        _fetch = new FetchRoute(cached, _counters.For("fetch"));

        _oci = new OciPullThrough(cache, OciPullThroughOptions.FromGateway(options, registryCredentials), loggers.CreateLogger("Cleanroom.Gateway.Oci"));
        _registry = new RegistryRoute(_oci, _counters.For(RegistryRoute.Name), AuditRouteRefusal, _logger);
        _npm = new NpmRoute(cached, options, _counters.For("npm"));
        _goproxy = new GoProxyRoute(cached, options, _counters.For("goproxy"));
        _pypi = new PyPiRoute(cached, options, _counters.For("pypi"));
        _rubygems = new RubyGemsRoute(cached, options, _counters.For("rubygems"));
    }

    /// <summary>The endpoints actually bound (port 0 resolved).</summary>
    public IReadOnlyList<IPEndPoint> Endpoints { get; private set; } = [];

    /// <summary>The cache it serves from (owned by the caller).</summary>
    public ContentCache Cache { get; }

    /// <summary>Requests being handled now (all sandboxes), for tests that must know every request has arrived.</summary>
    internal int RequestsInFlight => Volatile.Read(ref _inFlight);

    /// <summary>Sandboxes the per-sandbox limiter holds state for now (busy ones; idle ones are dropped).</summary>
    internal int TrackedSandboxes => _limiter.TrackedSandboxes;

    /// <summary>
    /// Counters per route since start: <c>git</c>, <c>fetch</c>, <c>registry</c> (both OCI prefixes), <c>npm</c>, <c>goproxy</c>,
    /// <c>pypi</c>, <c>rubygems</c>, <c>other</c> and <c>none</c> (refused before a route).
    /// </summary>
    public IReadOnlyList<GatewayRouteCounters> Statistics() => _counters.Snapshot();

    /// <summary>Starts listening; throws when an endpoint cannot be bound or the credentials file is invalid.</summary>
    /// <exception cref="CredentialsFileException">The credentials file is missing, unsafe or malformed.</exception>
    public static async Task<GatewayServer> StartAsync(
        GatewayOptions options, ContentCache cache, IGatewayClients clients, IGatewayAudit audit, ILoggerFactory loggers, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(audit);
        ArgumentNullException.ThrowIfNull(loggers);
        ct.ThrowIfCancellationRequested();
        if (options.ListenEndpoints.Count == 0)
        {
            throw new ArgumentException("the gateway needs at least one endpoint to listen on", nameof(options));
        }

        var credentials = options.CredentialsFile is { } file ? GatewayCredentials.Load(file) : GatewayCredentials.None;
        var registryCredentials = LoadRegistryCredentials(options.RegistryAuthFile);
        var server = new GatewayServer(options, cache, clients, audit, loggers, credentials, registryCredentials);
        try
        {
            await server.ListenAsync(loggers, ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Registry credentials from a Docker config named explicitly (the daemon user's own is never read). A named file
    /// that cannot be used stops the gateway, as a bad credentials file does: pulls must not quietly go anonymous.
    /// </summary>
    private static RegistryCredentialStore LoadRegistryCredentials(string? path)
    {
        if (path is null)
        {
            return RegistryCredentialStore.Empty;
        }

        if (!File.Exists(path))
        {
            throw new CredentialsFileException($"the registry auth file {path} does not exist");
        }

        var store = RegistryCredentialStore.FromDockerConfig(path);
        return store.Problems.Count == 0
            ? store
            : throw new CredentialsFileException($"the registry auth file {path} is not usable: {string.Join("; ", store.Problems)}");
    }

    /// <summary>Stops listening and waits for requests in flight (bounded).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_app is { } app)
        {
            using var wait = new CancellationTokenSource(ShutdownWait);
            try
            {
                await app.StopAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                // In-flight requests outlived the wait; disposing the host cuts them off.
            }

            await app.DisposeAsync();
        }

        _upstream.Dispose();
        _oci.Dispose();
    }

    private async Task ListenAsync(ILoggerFactory loggers, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });

        // Nothing from the environment or appsettings files may reconfigure a listener guests talk to.
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);

        // The default console lifetime would take SIGTERM and Ctrl+C for itself; the daemon owns those.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestHeadersTotalSize = _options.MaxRequestHeaderBytes;
            kestrel.Limits.MaxRequestLineSize = Math.Min(_options.MaxRequestHeaderBytes, RequestTarget.MaxLength + 64);
            kestrel.Limits.MaxRequestBodySize = _options.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeaderCount = 100;
            kestrel.Limits.RequestHeadersTimeout = RequestHeadersTimeout;
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(60);
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(10));
            kestrel.Limits.MinResponseDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(10));
            foreach (var endpoint in _options.ListenEndpoints)
            {
                kestrel.Listen(endpoint, listen => listen.Protocols = HttpProtocols.Http1);
            }
        });
        var app = builder.Build();
        app.Run(CountedAsync);
        _app = app;
        await app.StartAsync(ct);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        Endpoints = [.. addresses.Select(a => new Uri(a)).Select(u => new IPEndPoint(IPAddress.Parse(u.Host.Trim('[', ']')), u.Port))];
    }

    private async Task CountedAsync(HttpContext http)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            await HandleAsync(http);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task HandleAsync(HttpContext http)
    {
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        if (raw == "/healthz" && (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)))
        {
            http.Response.ContentType = "text/plain";
            await http.Response.WriteAsync("ok\n", http.RequestAborted);
            return;
        }

        var source = http.Connection.RemoteIpAddress;
        if (source is { IsIPv4MappedToIPv6: true })
        {
            source = source.MapToIPv4();
        }

        var client = source is null ? null : _clients.Find(source);
        if (client is null)
        {
            await RefuseAsync(http, "", "none", "", raw, 403, ReasonCode.UnknownClient, "this address belongs to no sandbox");
            return;
        }

        using var lease = _limiter.TryEnter(client.SandboxId, out var limit);
        if (lease is null)
        {
            await RefuseAsync(http, client.SandboxId, "none", "", raw, 429, ReasonCode.RateLimited, "this sandbox sent " + limit);
            return;
        }

        if (!RequestTarget.TryParse(raw, out var target, out var problem))
        {
            await RefuseAsync(http, client.SandboxId, "none", "", raw, 400, ReasonCode.InvalidRequest, problem);
            return;
        }

        var first = target!.Segments[0];
        var route = first is "git" or "fetch" or "npm" or "goproxy" or "pypi" or "rubygems" ? first
            : first is "registry" or RegistryRoute.MirrorSegment ? RegistryRoute.Name : "other";
        var request = new GatewayRequest(http, client, target, route);
        try
        {
            switch (first)
            {
                case "git":
                    await _git.HandleAsync(request);
                    break;
                case "fetch":
                    await _fetch.HandleAsync(request);
                    break;
                case "registry" or RegistryRoute.MirrorSegment:
                    await _registry.HandleAsync(request);
                    break;
                case "npm":
                    await _npm.HandleAsync(request);
                    break;
                case "goproxy":
                    await _goproxy.HandleAsync(request);
                    break;
                case "pypi":
                    await _pypi.HandleAsync(request);
                    break;
                case "rubygems":
                    await _rubygems.HandleAsync(request);
                    break;
                default:
                    throw new GatewayRefusalException(404, ReasonCode.RouteNotFound, "no gateway route serves this path");
            }
        }
        catch (GatewayRefusalException ex)
        {
            await RefuseAsync(http, client.SandboxId, route, request.Host, raw, ex.Status, ex.Reason, ex.Message);
        }
        catch (RedirectRefusedException ex)
        {
            await RefuseAsync(http, client.SandboxId, route, request.Host, raw, 403, ReasonCode.HostNotAllowed,
                $"the upstream redirected to {UntrustedText.Quote(ex.Host)}, which the sandbox's network policy does not allow");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await RefuseAsync(http, client.SandboxId, route, request.Host, raw, 413, ReasonCode.RequestTooLarge,
                $"the request body is larger than {_options.MaxRequestBodyBytes} bytes");
        }
        catch (Exception ex) when (IsUpstreamFailure(ex) && !http.RequestAborted.IsCancellationRequested)
        {
            _counters.For(route).UpstreamError();
            _logger.LogWarning("gateway: {Route} request for sandbox {Sandbox} failed upstream: {Error}",
                route, client.SandboxId, UntrustedText.Escape(ex.Message));
            await RefuseAsync(http, client.SandboxId, route, request.Host, raw, 502, ReasonCode.UpstreamError,
                "the upstream failed: " + ex.Message, countAsRefused: false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException
            && http.RequestAborted.IsCancellationRequested)
        {
            // The guest hung up; nothing to answer.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !http.RequestAborted.IsCancellationRequested)
        {
            // A bug or a host failure (the cache's disk, its database): say so plainly, never with the details.
            _logger.LogError(ex, "gateway: {Route} request for sandbox {Sandbox} failed", route, client.SandboxId);
            await RefuseAsync(http, client.SandboxId, route, request.Host, raw, 500, ReasonCode.Internal,
                "the gateway failed; see the daemon's log", countAsRefused: false);
        }
    }

    private static bool IsUpstreamFailure(Exception ex) =>
        ex is UpstreamFailedException or ObjectTooLargeException or TimeoutException or OperationCanceledException or HttpRequestException;

    /// <summary>For routes that write their own refusals (the registry's JSON error bodies): the audit, log and count.</summary>
    private void AuditRouteRefusal(GatewayRequest request, int status, string code, bool countAsRefused) =>
        Audit(request.Client.SandboxId, request.Route, request.Host,
            request.Http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "", status, code, countAsRefused);

    /// <summary>Records a refusal: the audit sink, the log, and (unless told otherwise) the route's refusal count.</summary>
    private void Audit(string sandboxId, string route, string host, string rawTarget, int status, string code, bool countAsRefused)
    {
        if (countAsRefused)
        {
            _counters.For(route).Refuse();
        }

        var path = rawTarget.Length > MaxAuditedPathLength ? rawTarget[..MaxAuditedPathLength] : rawTarget;
        try
        {
            _audit.Refused(new GatewayRefusal(sandboxId, DateTimeOffset.UtcNow, route == "none" ? "" : route, host, path, code));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.LogError(ex, "gateway: the audit sink failed");
        }

        _logger.LogInformation("gateway: refused {Status} {Reason} for sandbox {Sandbox}: {Path}",
            status, code, sandboxId.Length == 0 ? "(none)" : sandboxId, UntrustedText.Escape(path, 200));
    }

    /// <summary>Answers a refusal: status, reason header, a short escaped text, an audit record and a count.</summary>
    private async Task RefuseAsync(
        HttpContext http, string sandboxId, string route, string host, string rawTarget, int status, ReasonCode reason, string message,
        bool countAsRefused = true)
    {
        var code = reason.ToSnakeCase();
        Audit(sandboxId, route, host, rawTarget, status, code, countAsRefused);
        if (http.Response.HasStarted)
        {
            http.Abort();
            return;
        }

        http.Response.Clear();
        http.Response.StatusCode = status;
        http.Response.Headers[ReasonHeader] = code;
        if (status == StatusCodes.Status429TooManyRequests)
        {
            http.Response.Headers.RetryAfter = "1";
        }

        http.Response.ContentType = "text/plain; charset=utf-8";
        var body = Encoding.UTF8.GetBytes($"cleanroom gateway: {code}: {UntrustedText.Escape(message, 512)}\n");
        http.Response.ContentLength = body.Length;
        try
        {
            await http.Response.Body.WriteAsync(body, http.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The guest is gone.
        }
    }
}
