using Cleanroom.Escaping;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Cleanroom.Images.Registry;
using Cleanroom.Oci;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>
/// The OCI distribution pull-through behind the gateway's <c>/registry/&lt;host&gt;/v2/…</c> and <c>/v2/…</c>
/// (Docker Hub mirror) routes, independent of HTTP: it checks the sandbox's policy, serves manifests and blobs from
/// the content cache, and fetches misses from the upstream registry with host-side credentials. Blobs and manifests
/// named by digest are immutable and verified against their digest before anything is stored; a tag is cached for
/// <see cref="OciPullThroughOptions.TagTimeToLive"/> (with the manifest it named, by digest) and served stale, flagged,
/// when the upstream cannot be reached. Redirects the registry sends (blob storage) are held to the sandbox's policy.
/// Thread-safe; one instance serves every sandbox.
/// </summary>
public sealed class OciPullThrough : IDisposable
{
    /// <summary>The Content-Type of a blob answer.</summary>
    public const string BlobContentType = "application/octet-stream";

    /// <summary>The header (and value) every distribution API answer carries, the ping's above all.</summary>
    public const string ApiVersionHeader = "Docker-Distribution-API-Version";

    /// <summary>The value of <see cref="ApiVersionHeader"/>.</summary>
    public const string ApiVersion = "registry/2.0";

    private readonly ContentCache _cache;
    private readonly OciPullThroughOptions _options;
    private readonly RegistryClient _registry;
    private readonly ILogger _logger;

    /// <param name="cache">The content cache (owned by the caller).</param>
    /// <param name="options">Upstreams, credentials, bounds.</param>
    /// <param name="logger">Receives upstream failures and stale answers.</param>
    public OciPullThrough(ContentCache cache, OciPullThroughOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _cache = cache;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _registry = new RegistryClient(new RegistryClientOptions
        {
            Credentials = options.Credentials,
            BaseUris = options.Upstreams,
            CheckRedirect = OciRedirectGuard.Check,
            CheckTokenRealm = OciRedirectGuard.CheckRealm,
            MaxAttempts = options.MaxAttempts,
            InitialBackoff = options.InitialBackoff,
            RequestTimeout = options.UpstreamTimeout,
            UserAgent = "cleanroom-gateway/0.1",
        }, _logger);
    }

    /// <summary>
    /// <c>GET /v2/</c>: 200 when the registry host is well-formed and the sandbox may reach it (the client then knows
    /// it speaks to a v2 registry; there is nothing to authenticate against the gateway), else the refusal.
    /// </summary>
    public static OciAnswer Ping(GatewayClient client, string registryHost)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(registryHost);
        return CheckRegistry(client, registryHost, out _) ?? new OciAnswer { Status = 200, ContentType = "application/json", Length = 0 };
    }

    /// <summary>
    /// A manifest or index by tag or digest (<c>GET|HEAD /v2/&lt;name&gt;/manifests/&lt;reference&gt;</c>). The answer
    /// carries the manifest's media type as Content-Type, its digest and length, and for GET its bytes (read and
    /// verified from the cache already; a corrupt cached copy is fetched again). HEAD answers the same without a body.
    /// </summary>
    public async Task<OciAnswer> ManifestAsync(GatewayClient client, string registryHost, string repository, string reference, bool headOnly, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (Start(client, registryHost, repository, out var target) is { } refusal)
        {
            return refusal;
        }

        var byDigest = OciPath.IsDigest(reference);
        if (!byDigest && !OciPath.IsTag(reference))
        {
            return reference.Contains(':', StringComparison.Ordinal)
                ? OciAnswer.Refused(400, OciReasons.InvalidRequest, OciErrorCodes.DigestInvalid, $"{OciPath.Shown(reference)} is not a digest (only sha256:<64 lowercase hex digits>)")
                : OciAnswer.Refused(400, OciReasons.InvalidRequest, OciErrorCodes.TagInvalid, $"{OciPath.Shown(reference)} is not a tag");
        }

        var subject = $"manifest {target.Name}{(byDigest ? "@" : ":")}{reference}";
        try
        {
            // Twice at most: a cached copy found corrupt (or evicted) as it is read is gone afterwards, so the second
            // round fetches it again.
            for (var round = 1; ; round++)
            {
                var result = byDigest
                    ? await _cache.GetOrFetchAsync(target.Key("manifest", "@" + reference), token => FetchManifestAsync(client, target, reference, token), ct)
                    : await _cache.GetOrFetchAsync(target.Key("tag", ":" + reference), token => FetchManifestAsync(client, target, reference, token), ct);
                if (result.Outcome == CacheOutcome.Stale && IsDefinitive(result.UpstreamFailure))
                {
                    // The registry answered (the tag is gone, access was withdrawn): that is news, not an outage.
                    return Failure(result.UpstreamFailure!, OciRequestKind.Manifest, subject);
                }

                var bytes = await ReadManifestAsync(result, subject, ct);
                if (bytes is null)
                {
                    if (round == 1)
                    {
                        continue;
                    }

                    return OciAnswer.Refused(503, OciReasons.UpstreamError, OciErrorCodes.Unavailable, $"{subject} could not be kept in the cache long enough to serve it");
                }

                LogStale(result, subject);
                return new OciAnswer
                {
                    Status = 200,
                    ContentType = result.Entry.ContentType,
                    DockerContentDigest = result.Entry.Digest.ToString(),
                    Length = bytes.Length,
                    Body = headOnly ? null : new MemoryStream(bytes, writable: false),
                    Cache = CacheResultOf(result),
                    StaleBecause = StaleReason(result),
                };
            }
        }
        catch (Exception ex) when (IsUpstreamFailure(ex, ct))
        {
            return Failure(ex, OciRequestKind.Manifest, subject);
        }
    }

    /// <summary>
    /// A blob by digest (<c>GET|HEAD /v2/&lt;name&gt;/blobs/&lt;digest&gt;</c>). A miss is fetched whole into the cache
    /// (verified against the digest; a mismatch stores nothing and fails) before it is served, HEAD included, so the
    /// GET that follows a HEAD is a hit. The body is the cache's verifying reader: read it to the end, and abort the
    /// response if it throws <see cref="CacheIntegrityException"/> (the rotten copy is gone and the next request refetches).
    /// </summary>
    public async Task<OciAnswer> BlobAsync(GatewayClient client, string registryHost, string repository, string digest, bool headOnly, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(digest);
        if (Start(client, registryHost, repository, out var target) is { } refusal)
        {
            return refusal;
        }

        if (!OciPath.IsDigest(digest))
        {
            return OciAnswer.Refused(400, OciReasons.InvalidRequest, OciErrorCodes.DigestInvalid, $"{OciPath.Shown(digest)} is not a digest (only sha256:<64 lowercase hex digits>)");
        }

        var subject = $"blob {digest} of {target.Name}";
        try
        {
            for (var round = 1; ; round++)
            {
                var result = await _cache.GetOrFetchAsync(target.Key("blob", "@" + digest), token => FetchBlobAsync(client, target, digest, token), ct);
                var body = headOnly ? null : _cache.OpenRead(result);
                if (!headOnly && body is null)
                {
                    // Evicted between the fetch and the read (a cache far smaller than its traffic): once more.
                    if (round == 1)
                    {
                        continue;
                    }

                    return OciAnswer.Refused(503, OciReasons.UpstreamError, OciErrorCodes.Unavailable, $"{subject} could not be kept in the cache long enough to serve it");
                }

                return new OciAnswer
                {
                    Status = 200,
                    ContentType = BlobContentType,
                    DockerContentDigest = digest,
                    Length = result.Entry.Size,
                    Body = body,
                    Cache = CacheResultOf(result),
                };
            }
        }
        catch (Exception ex) when (IsUpstreamFailure(ex, ct))
        {
            return Failure(ex, OciRequestKind.Blob, subject);
        }
    }

    /// <summary>Releases the registry client (not the cache).</summary>
    public void Dispose() => _registry.Dispose();

    /// <summary>Checks the registry host and the sandbox's policy for it; null when the request may go on.</summary>
    private static OciAnswer? CheckRegistry(GatewayClient client, string registryHost, out OciRegistry registry)
    {
        if (!OciRegistry.TryParse(registryHost, out registry, out var error))
        {
            return OciAnswer.Refused(400, OciReasons.InvalidRequest, OciErrorCodes.NameInvalid, error);
        }

        if (!client.AllowAll && !client.Policy.Evaluate(registry.PolicyHost, registry.PolicyPort).IsAllowed)
        {
            return OciAnswer.Refused(403, OciReasons.HostNotAllowed, OciErrorCodes.Denied,
                $"the sandbox's network policy does not allow {registry.PolicyHost}:{registry.PolicyPort}");
        }

        return null;
    }

    /// <summary>Checks host, policy and repository name; builds the target. Null when the request may go on.</summary>
    private OciAnswer? Start(GatewayClient client, string registryHost, string repository, out OciTarget target)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(registryHost);
        ArgumentNullException.ThrowIfNull(repository);
        target = null!;
        if (CheckRegistry(client, registryHost, out var registry) is { } refusal)
        {
            return refusal;
        }

        var path = registry.RepositoryPath(repository);
        var image = OciPath.IsName(repository) && OciPath.IsName(path) ? ImageReference.Parse($"{registry.Registry}/{path}", out _) : null;
        if (image is null || image.Registry != registry.Registry || image.Path != path)
        {
            return OciAnswer.Refused(400, OciReasons.InvalidRequest, OciErrorCodes.NameInvalid, $"{OciPath.Shown(repository)} is not a repository name");
        }

        target = new OciTarget(registry, path, image, OciCredentialScope.For(registry.Registry, _options.Credentials), _registry.BaseUriFor(registry.Registry));
        return null;
    }

    /// <summary>The flight that fetches a manifest (by tag or digest); a tag's manifest is also stored by its digest.</summary>
    private async Task<CacheFill> FetchManifestAsync(GatewayClient client, OciTarget target, string reference, CancellationToken token)
    {
        OciRedirectGuard.Enter(client, target.BaseUri);
        var subject = $"manifest {target.Name}{(OciPath.IsDigest(reference) ? "@" : ":")}{reference}";
        var fetched = await _registry.GetManifestBytesAsync(target.Image, reference, _options.MaxManifestBytes, token);
        var mediaType = OciManifestMediaType.Resolve(fetched.Bytes, fetched.MediaType, subject);
        var digest = BlobDigest.Parse(fetched.Digest.ToString());
        if (!OciPath.IsDigest(reference))
        {
            var byDigest = target.Key("manifest", "@" + digest);
            if (_cache.Lookup(byDigest).Freshness != CacheFreshness.Fresh)
            {
                await _cache.PutAsync(byDigest, new MemoryStream(fetched.Bytes, writable: false),
                    new CacheEntryOptions { ContentType = mediaType, ExpectedDigest = digest }, token);
            }
        }

        return new CacheFill(new MemoryStream(fetched.Bytes, writable: false), new CacheEntryOptions
        {
            ContentType = mediaType,
            ExpectedDigest = digest,
            TimeToLive = OciPath.IsDigest(reference) ? null : _options.TagTimeToLive,
        });
    }

    /// <summary>The flight that fetches a blob: the upstream body goes straight into the cache, which verifies it.</summary>
    private async Task<CacheFill> FetchBlobAsync(GatewayClient client, OciTarget target, string digest, CancellationToken token)
    {
        OciRedirectGuard.Enter(client, target.BaseUri);
        var body = await _registry.OpenBlobAsync(target.Image, digest, _cache.Options.MaxObjectBytes, token);
        return new CacheFill(body, new CacheEntryOptions { ContentType = BlobContentType, ExpectedDigest = BlobDigest.Parse(digest) });
    }

    /// <summary>Reads a cached manifest whole through the verifying reader; null when it is gone or was found corrupt (and removed).</summary>
    private async Task<byte[]?> ReadManifestAsync(CacheResult result, string subject, CancellationToken ct)
    {
        if (result.Entry.Size > _options.MaxManifestBytes)
        {
            throw new RegistryException(RegistryErrorKind.SizeMismatch, $"{subject} is {result.Entry.Size} bytes; manifests are limited to {_options.MaxManifestBytes}");
        }

        var stream = _cache.OpenRead(result);
        if (stream is null)
        {
            return null;
        }

        await using (stream)
        {
            var buffer = new MemoryStream((int)result.Entry.Size);
            try
            {
                await stream.CopyToAsync(buffer, ct);
            }
            catch (CacheIntegrityException ex)
            {
                _logger.LogWarning("{Subject}: the cached copy was corrupt and has been removed ({Error}); fetching it again", subject, ex.Message);
                return null;
            }

            return buffer.ToArray();
        }
    }

    private void LogStale(CacheResult result, string subject)
    {
        if (result.Outcome == CacheOutcome.Stale)
        {
            _logger.LogWarning("{Subject}: serving the cached tag past its TTL because the upstream failed: {Error}", subject, StaleReason(result));
        }
    }

    private static string? StaleReason(CacheResult result) =>
        result.Outcome == CacheOutcome.Stale ? UntrustedText.Escape(result.UpstreamFailure?.Message ?? "the upstream failed") : null;

    private static OciCacheResult CacheResultOf(CacheResult result) => result.Outcome switch
    {
        CacheOutcome.Hit => OciCacheResult.Hit,
        CacheOutcome.Fetched => OciCacheResult.Miss,
        _ => OciCacheResult.Stale,
    };

    /// <summary>An upstream answer that a stale entry must not hide: the registry is up and said no.</summary>
    private static bool IsDefinitive(Exception? failure) =>
        failure is RegistryException { Kind: RegistryErrorKind.NotFound or RegistryErrorKind.Unauthorized or RegistryErrorKind.Denied };

    /// <summary>Failures that become an answer; the caller's own cancellation and bugs propagate.</summary>
    private static bool IsUpstreamFailure(Exception ex, CancellationToken ct) => ex switch
    {
        OperationCanceledException => !ct.IsCancellationRequested,
        RegistryException or OciRedirectRefusedException or OciManifestRejectedException or TimeoutException
            or ObjectDisposedException or HttpRequestException or IOException => true,
        _ => false,
    };

    private OciAnswer Failure(Exception ex, OciRequestKind kind, string subject)
    {
        var message = UntrustedText.Escape(ex.Message);
        var unknown = kind == OciRequestKind.Blob ? OciErrorCodes.BlobUnknown : OciErrorCodes.ManifestUnknown;
        var answer = ex switch
        {
            OciRedirectRefusedException => OciAnswer.Refused(403, OciReasons.HostNotAllowed, OciErrorCodes.Denied, $"{subject}: {message}"),
            OciManifestRejectedException => OciAnswer.Refused(502, OciReasons.UpstreamError, OciErrorCodes.ManifestInvalid, message),
            RegistryException { Kind: RegistryErrorKind.NotFound } => OciAnswer.Refused(404, null, unknown, message),
            RegistryException { Kind: RegistryErrorKind.Unauthorized } => OciAnswer.Refused(401, OciReasons.UpstreamError, OciErrorCodes.Unauthorized, message),
            RegistryException { Kind: RegistryErrorKind.Denied } => OciAnswer.Refused(403, OciReasons.UpstreamError, OciErrorCodes.Denied, message),
            RegistryException { Kind: RegistryErrorKind.SizeMismatch } => OciAnswer.Refused(502, OciReasons.ImageTooLarge, OciErrorCodes.SizeInvalid, message),
            RegistryException { Kind: RegistryErrorKind.Unavailable } => OciAnswer.Refused(502, OciReasons.UpstreamError, OciErrorCodes.Unavailable, message),
            RegistryException => OciAnswer.Refused(502, OciReasons.UpstreamError, OciErrorCodes.Unknown, message),
            ObjectTooLargeException => OciAnswer.Refused(502, OciReasons.ImageTooLarge, OciErrorCodes.SizeInvalid, $"{subject}: {message}"),
            CacheIntegrityException => OciAnswer.Refused(502, OciReasons.UpstreamError, OciErrorCodes.Unknown, $"{subject}: the registry served bytes that do not match the digest ({message}); nothing was cached"),
            TimeoutException or OperationCanceledException => OciAnswer.Refused(504, OciReasons.UpstreamError, OciErrorCodes.Unavailable, $"{subject}: the upstream fetch took too long"),
            ObjectDisposedException => OciAnswer.Refused(503, OciReasons.UpstreamError, OciErrorCodes.Unavailable, "the gateway is shutting down"),
            _ => OciAnswer.Refused(502, OciReasons.UpstreamError, OciErrorCodes.Unavailable, $"{subject}: {message}"),
        };
        _logger.LogInformation("{Subject}: {Status} {Reason}: {Message}", subject, answer.Status, answer.Reason ?? "-", answer.Message);
        return answer;
    }
}
