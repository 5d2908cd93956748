using System.IO.Compression;
using System.Security.Cryptography;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Cleanroom.Gateway.Upstream;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Gateway.Routes;

/// <summary>
/// <c>/git/HOST/REPO/…</c>: git smart HTTP, fetch only. <c>GET REPO/info/refs?service=git-upload-pack</c> and
/// <c>POST REPO/git-upload-pack</c>; everything else (receive-pack, the dumb protocol, other methods) is refused with
/// 403 <c>method_not_allowed</c>. Pack answers are cached immutable by (scope, repo, Git-Protocol, SHA-256 of the
/// uncompressed request); ref advertisements go upstream every time and are kept with a TTL so that they can stand
/// in, flagged stale, while the upstream is down. When the upstream fails (or, with a mirror to fall back on, is
/// slower than <see cref="GatewayOptions.GitMirrorFallbackAfter"/>) and the cache has no answer for the request, a
/// host-side mirror of the repository (<see cref="GatewayOptions.GitMirrors"/>) answers, flagged stale, but only
/// when the request's credential scope has fetched the repository's refs through the gateway before.
/// </summary>
internal sealed class GitRoute(
    ContentCache cache, UpstreamClient upstream, CachedUpstream cached, GatewayOptions options, RouteCounterSet.Counters counters, ILogger logger)
{
    private const int MaxErrorBody = 64 << 10;
    private const string UploadPack = "git-upload-pack";

    private readonly GitMirrorServer _mirrors = new(options, logger);

    public async Task HandleAsync(GatewayRequest request)
    {
        var host = RouteHelpers.Host(request, 1);
        var target = request.Target;
        var segments = target.Segments;
        var method = request.Http.Request.Method;
        int repoEnd;
        bool isRefs;
        if (HttpMethods.IsGet(method) && segments.Count >= 5 && segments[^2] == "info" && segments[^1] == "refs"
            && target.Query == "service=" + UploadPack)
        {
            repoEnd = segments.Count - 2;
            isRefs = true;
        }
        else if (HttpMethods.IsPost(method) && segments.Count >= 4 && segments[^1] == UploadPack && target.Query is null)
        {
            repoEnd = segments.Count - 1;
            isRefs = false;
        }
        else
        {
            throw new GatewayRefusalException(
                403, ReasonCode.MethodNotAllowed,
                "the gateway serves git fetches only: GET info/refs?service=git-upload-pack and POST git-upload-pack (no push)");
        }

        RouteHelpers.CheckPolicy(request, host);
        var repo = "/" + string.Join('/', target.RawSegments.Skip(2).Take(repoEnd - 2));
        var headers = RouteHelpers.Forwarded(request.Http.Request, "Content-Type", "Accept", "Git-Protocol");
        var gitProtocol = headers.FirstOrDefault(h => h.Key == "Git-Protocol").Value ?? "";
        var scope = upstream.ScopeFor(host);
        var mirror = AuthorizedMirror(scope, host, repo, gitProtocol);
        if (isRefs)
        {
            var key = GatewayKeys.Make("git", "refs", scope, host + repo, gitProtocol);
            var get = new UpstreamRequest(HttpMethod.Get, host, repo + "/info/refs?service=" + UploadPack, headers);
            await RefsAsync(request, key, get, new MirrorFallback(mirror, null, gitProtocol));
            return;
        }

        var body = await ReadBodyAsync(request.Http.Request, options.MaxRequestBodyBytes, request.Aborted);
        var post = new UpstreamRequest(HttpMethod.Post, host, repo + "/" + UploadPack, headers, body);
        var bodyHash = Convert.ToHexStringLower(SHA256.HashData(body));
        switch (GitPktLine.Classify(body, gitProtocol))
        {
            case GitRequestKind.Pack:
                await PackAsync(request, GatewayKeys.Make("git", "pack", scope, host + repo, gitProtocol, bodyHash), post, new MirrorFallback(mirror, body, gitProtocol));
                break;
            case GitRequestKind.Refs:
                await RefsAsync(request, GatewayKeys.Make("git", "ls-refs", scope, host + repo, gitProtocol, bodyHash), post, new MirrorFallback(mirror, body, gitProtocol));
                break;
            default:
                await using (var response = await upstream.SendAsync(request.Client, post, request.Aborted))
                {
                    counters.Bypass();
                    await ResponseWriter.PassThroughAsync(request, response, counters);
                }

                break;
        }
    }

    /// <summary>
    /// The request body, bounded; a gzip body (git sends big negotiations compressed) is inflated, bounded too, so
    /// the cache key is the same however the client chose to send it.
    /// </summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            throw new GatewayRefusalException(413, ReasonCode.RequestTooLarge, $"the request body is larger than {maxBytes} bytes");
        }

        var encoding = request.Headers.ContentEncoding.ToString();
        var raw = await ReadBoundedAsync(request.Body, maxBytes, cancellationToken);
        if (encoding.Length == 0 || encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return raw;
        }

        if (!encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase) && !encoding.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "the request body's Content-Encoding is neither gzip nor identity");
        }

        try
        {
            await using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            return await ReadBoundedAsync(gzip, maxBytes, cancellationToken);
        }
        catch (InvalidDataException)
        {
            throw new GatewayRefusalException(400, ReasonCode.InvalidRequest, "the request body is not valid gzip");
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(Stream source, long maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 << 10];
        int n;
        while ((n = await source.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + n > maxBytes)
            {
                throw new GatewayRefusalException(413, ReasonCode.RequestTooLarge, $"the request body is larger than {maxBytes} bytes (uncompressed)");
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// A ref advertisement: always asked of the upstream (refs move), stored with the metadata TTL, and served from
    /// what was stored; when the upstream is unreachable or failing, the last stored answer stands in, flagged stale,
    /// and without one the repository's mirror (when the scope may use it).
    /// </summary>
    private async Task RefsAsync(GatewayRequest request, CacheKey key, UpstreamRequest upstreamRequest, MirrorFallback fallback)
    {
        UpstreamFailedException failure;
        try
        {
            await using var response = await SendAsync(request, upstreamRequest, fallback.Mirror is not null);
            if (response.Status == 200)
            {
                var options1 = new CacheEntryOptions { ContentType = response.ContentType, TimeToLive = options.MetadataTtl };
                var entry = await cache.PutAsync(key, response.Body, options1, request.Aborted);
                if (await ResponseWriter.ServeEntryAsync(request, cache.OpenRead(entry, countAsHit: false), entry, "bypass", counters, logger))
                {
                    counters.Bypass();
                    return;
                }

                throw new UpstreamFailedException("the ref advertisement was evicted from the cache as soon as it was stored");
            }

            if (response.Status < 500)
            {
                var prefix = await response.ReadPrefixAsync(MaxErrorBody, request.Aborted);
                counters.Bypass();
                await ResponseWriter.PassStatusAsync(request, new UpstreamStatusException(response.Status, response.ContentType, prefix), counters);
                return;
            }

            failure = new UpstreamFailedException($"the upstream answered {response.Status}");
        }
        catch (UpstreamFailedException ex) when (!request.Http.Response.HasStarted)
        {
            failure = ex;
        }

        if (cache.Lookup(key).Entry is { } stored
            && await ResponseWriter.ServeEntryAsync(request, cache.OpenRead(stored), stored, "stale", counters, logger))
        {
            logger.LogInformation("gateway: served stale git refs for {Key}: {Error}", key.ToString(), failure.Message);
            counters.Stale();
            return;
        }

        if (await FromMirrorAsync(request, key, fallback, failure))
        {
            return;
        }

        throw failure;
    }

    /// <summary>
    /// A pack: from the cache, or fetched once into it. With a mirror to fall back on, the wait is bounded; a mirror
    /// that lacks a wanted object is not asked, and the request goes back to waiting for the upstream's fetch.
    /// </summary>
    private async Task PackAsync(GatewayRequest request, CacheKey key, UpstreamRequest post, MirrorFallback fallback)
    {
        if (fallback.Mirror is null)
        {
            await cached.ServeAsync(request, key, post, CacheEntryOptions.Immutable, counters);
            return;
        }

        try
        {
            await cached.ServeAsync(request, key, post, CacheEntryOptions.Immutable, counters, answerWithin: options.GitMirrorFallbackAfter);
        }
        catch (UpstreamFailedException ex) when (!request.Http.Response.HasStarted)
        {
            if (await FromMirrorAsync(request, key, fallback, ex))
            {
                return;
            }

            if (ex.InnerException is not TimeoutException)
            {
                throw;
            }

            // Only slow, and the mirror cannot stand in: wait on for the fetch that is still running.
            await cached.ServeAsync(request, key, post, CacheEntryOptions.Immutable, counters);
        }
    }

    /// <summary>Answers from the mirror when there is one this request may use and it has what the request wants.</summary>
    private async Task<bool> FromMirrorAsync(GatewayRequest request, CacheKey key, MirrorFallback fallback, UpstreamFailedException failure)
    {
        if (fallback.Mirror is not { } mirror)
        {
            return false;
        }

        if (fallback.Body is { } body && !await _mirrors.HasWantsAsync(mirror, body, request.Aborted))
        {
            logger.LogInformation("gateway: the mirror for {Key} lacks objects the request wants; not answering from it", key.ToString());
            return false;
        }

        if (!await _mirrors.TryServeAsync(request, mirror, fallback.Body, fallback.GitProtocol, counters))
        {
            return false;
        }

        logger.LogInformation("gateway: served git {Kind} for {Key} from the repository mirror: {Error}", key.Kind, key.ToString(), failure.Message);
        return true;
    }

    /// <summary>
    /// Sends the request upstream; with <paramref name="bounded"/>, response headers that take longer than
    /// <see cref="GatewayOptions.GitMirrorFallbackAfter"/> count as a failure (the request is cancelled).
    /// </summary>
    private async Task<UpstreamResponse> SendAsync(GatewayRequest request, UpstreamRequest upstreamRequest, bool bounded)
    {
        if (!bounded)
        {
            return await upstream.SendAsync(request.Client, upstreamRequest, request.Aborted);
        }

        // Linked rather than timed: once headers are in, the body must not be cut by the bound. Disposed with the request.
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(request.Aborted);
        request.Http.Response.RegisterForDispose(cancel);
        var send = upstream.SendAsync(request.Client, upstreamRequest, cancel.Token);
        using (var timer = CancellationTokenSource.CreateLinkedTokenSource(request.Aborted))
        {
            var first = await Task.WhenAny(send, Task.Delay(options.GitMirrorFallbackAfter, timer.Token));
            if (first == send)
            {
                await timer.CancelAsync(); // no timer left running for the rest of the bound
                return await send;
            }
        }

        request.Aborted.ThrowIfCancellationRequested();
        await cancel.CancelAsync();
        _ = send.ContinueWith(
            t =>
            {
                // Observed, so a late failure is not an unobserved task exception; a late answer is released.
                _ = t.Exception;
                if (t.IsCompletedSuccessfully)
                {
                    _ = t.Result.DisposeAsync().AsTask();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        throw new UpstreamFailedException(
            $"the upstream sent no response headers within {options.GitMirrorFallbackAfter}", new TimeoutException());
    }

    /// <summary>
    /// The mirror this request may be answered from, or null. Guests never choose a directory: the host and path go
    /// to <see cref="IGitMirrors.Find"/>, after the policy check. A mirror may hold private content fetched with the
    /// daemon's own credentials, so it answers only a credential scope that fetched the repository's ref
    /// advertisement through the gateway before (an entry in the cache, stale or fresh, in that scope, for either
    /// spelling of the path and any protocol version).
    /// </summary>
    private string? AuthorizedMirror(string scope, string host, string repo, string gitProtocol)
    {
        if (options.GitMirrors is not { } mirrors)
        {
            return null;
        }

        var spellings = repo.EndsWith(".git", StringComparison.Ordinal) ? new[] { repo, repo[..^4] } : [repo, repo + ".git"];
        string[] protocols = [gitProtocol, "", "version=2", "version=1"];
        var fetchedBefore = spellings.Any(path => protocols.Distinct(StringComparer.Ordinal)
            .Any(protocol => cache.Lookup(GatewayKeys.Make("git", "refs", scope, host + path, protocol)).Entry is not null));
        if (!fetchedBefore)
        {
            return null;
        }

        try
        {
            return mirrors.Find(host, repo);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            logger.LogWarning("gateway: looking up the mirror of {Host} failed: {Error}", host, ex.Message);
            return null;
        }
    }

    /// <summary>What a mirror would answer: the mirror (null: none may answer), the request body (null for info/refs), the protocol.</summary>
    private sealed record MirrorFallback(string? Mirror, byte[]? Body, string GitProtocol);
}
