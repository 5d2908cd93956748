using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>
/// The HTTP side of the OCI pull-through: <c>/registry/&lt;host&gt;/v2/…</c> (any registry the sandbox's policy allows)
/// and <c>/v2/…</c> (the Docker Hub mirror, for <c>dockerd --registry-mirror</c>). It turns a GET or HEAD into one
/// <see cref="OciPullThrough"/> call and writes the answer the way registry clients expect: the distribution headers on
/// every answer, the spec's JSON error body on failures (with <c>X-Cleanroom-Reason-Code</c>), refusals audited.
/// </summary>
internal sealed class RegistryRoute(OciPullThrough pullThrough, RouteCounterSet.Counters counters, RegistryRoute.RefusalAudit audit, ILogger logger)
{
    /// <summary>The route's name for counters and the audit: one for both prefixes.</summary>
    public const string Name = "registry";

    /// <summary>The mirror route's first segment.</summary>
    public const string MirrorSegment = "v2";


    /// <summary>Records a refusal the route answered itself (the server's audit sink, log and refusal count).</summary>
    /// <param name="request">The refused request.</param>
    /// <param name="status">The status sent.</param>
    /// <param name="reasonCode">The <c>X-Cleanroom-Reason-Code</c> sent.</param>
    /// <param name="countAsRefused">False for upstream failures, which are counted as such by the route.</param>
    public delegate void RefusalAudit(GatewayRequest request, int status, string reasonCode, bool countAsRefused);

    public async Task HandleAsync(GatewayRequest request)
    {
        var segments = request.Target.RawSegments;
        var mirror = request.Target.Segments[0] == MirrorSegment;
        string registryHost;
        int first;
        if (mirror)
        {
            registryHost = OciRegistry.DockerHub;
            first = 0;
        }
        else
        {
            // Raw segments throughout: the OCI grammar has no '%', so an escaped character is refused, never decoded.
            registryHost = segments.Count > 1 ? segments[1] : "";
            first = 2;
        }

        if (OciRegistry.TryParse(registryHost, out var registry, out _))
        {
            request.Host = registry.Host;
        }

        OciAnswer answer;
        var method = request.Http.Request.Method;
        var head = HttpMethods.IsHead(method);
        if (!head && !HttpMethods.IsGet(method))
        {
            // Pushes (POST/PUT/PATCH to uploads and manifests) and deletes never reach a registry through the gateway.
            request.Http.Response.Headers.Allow = "GET, HEAD";
            answer = OciAnswer.Refused(405, ReasonCode.MethodNotAllowed.ToSnakeCase(), OciErrorCodes.Unsupported,
                "the gateway's registry routes are read-only: only GET and HEAD of v2/, manifests and blobs are served");
        }
        else if (registryHost.Length == 0)
        {
            answer = OciAnswer.Refused(400, OciReasons.InvalidRequest, OciErrorCodes.NameInvalid, "the path names no registry (/registry/<host>/v2/...)");
        }
        else
        {
            var path = first < segments.Count ? string.Join('/', segments.Skip(first)) : "";
            answer = OciPath.TryParse(path, out var parsed, out var error)
                ? parsed.Kind switch
                {
                    OciRequestKind.Ping => OciPullThrough.Ping(request.Client, registryHost),
                    OciRequestKind.Manifest => await pullThrough.ManifestAsync(request.Client, registryHost, parsed.Repository, parsed.Reference, head, request.Aborted),
                    _ => await pullThrough.BlobAsync(request.Client, registryHost, parsed.Repository, parsed.Reference, head, request.Aborted),
                }
                : Unparsable(path, error);
        }

        await using (answer)
        {
            await WriteAsync(request, answer, head);
        }
    }

    /// <summary>The refusal for a path <see cref="OciPath.TryParse"/> rejected, with the spec's error code for what was wrong.</summary>
    private static OciAnswer Unparsable(string path, string error)
    {
        var parts = path.Split('/');
        var known = parts.Length >= 4 && parts[0] == "v2" && parts[^2] is "manifests" or "blobs";
        if (!known)
        {
            // Tag lists, the catalog, referrers and upload sessions: not served. A 404 is what clients take for "not
            // supported here" (the referrers API falls back to tags on it).
            return OciAnswer.Refused(404, ReasonCode.RouteNotFound.ToSnakeCase(), OciErrorCodes.Unsupported, error);
        }

        var code = !OciPath.IsName(string.Join('/', parts[1..^2])) ? OciErrorCodes.NameInvalid
            : parts[^2] == "blobs" || parts[^1].Contains(':', StringComparison.Ordinal) ? OciErrorCodes.DigestInvalid
            : OciErrorCodes.TagInvalid;
        return OciAnswer.Refused(400, OciReasons.InvalidRequest, code, error);
    }

    private async Task WriteAsync(GatewayRequest request, OciAnswer answer, bool head)
    {
        var response = request.Http.Response;
        response.StatusCode = answer.Status;
        response.Headers[OciPullThrough.ApiVersionHeader] = OciPullThrough.ApiVersion;
        if (!answer.IsSuccess)
        {
            await WriteFailureAsync(request, answer, head);
            return;
        }

        response.ContentType = answer.ContentType ?? "application/json";
        if (answer.DockerContentDigest is { } digest)
        {
            response.Headers["Docker-Content-Digest"] = digest;
        }

        response.ContentLength = answer.Length ?? 0;
        if (answer.Cache is { } cache)
        {
            response.Headers[ResponseWriter.CacheHeader] = cache switch
            {
                OciCacheResult.Hit => "hit",
                OciCacheResult.Miss => "miss",
                _ => "stale",
            };
            if (cache == OciCacheResult.Stale)
            {
                // RFC 7234's "Response is Stale"; the reason (upstream text) stays in the daemon's log.
                response.Headers.Warning = "110 - \"Response is Stale\"";
                logger.LogInformation("gateway: served a stale tag for sandbox {Sandbox}: {Reason}", request.Client.SandboxId, answer.StaleBecause);
            }

            (cache switch { OciCacheResult.Hit => (Action)counters.Hit, OciCacheResult.Stale => counters.Stale, _ => counters.Miss })();
        }

        if (!head && answer.Body is { } body)
        {
            await ResponseWriter.StreamVerifiedAsync(request, body, counters, logger, "registry object", plainReads: false);
        }
    }

    private async Task WriteFailureAsync(GatewayRequest request, OciAnswer answer, bool head)
    {
        var response = request.Http.Response;
        var body = answer.ErrorBody();
        if (answer.Reason is { } reason)
        {
            response.Headers[GatewayServer.ReasonHeader] = reason;
            var upstream = reason == OciReasons.UpstreamError || answer.Status >= 500;
            if (upstream)
            {
                counters.UpstreamError();
            }

            audit(request, answer.Status, reason, countAsRefused: !upstream);
        }
        else
        {
            // The registry's own "not found": passed on, uncached, like any route's upstream 4xx.
            counters.Bypass();
            response.Headers[ResponseWriter.CacheHeader] = "bypass";
        }

        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        if (!head)
        {
            await response.Body.WriteAsync(body, request.Aborted);
        }
    }
}
