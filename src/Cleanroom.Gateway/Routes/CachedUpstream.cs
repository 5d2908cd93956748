using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Server;
using Cleanroom.Gateway.Upstream;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Gateway.Routes;

/// <summary>
/// The one way routes answer from the cache: look the key up, on a miss (or a stale entry) fetch it once for every
/// concurrent asker, check that the hosts its redirects went through are allowed for this asker, and stream it back.
/// An upstream 4xx is passed on uncached; a 5xx or a transport failure is an upstream error (or a stale answer when
/// an expired entry exists). Used by every route whose answers are stored: fetch, git packs, and the package routes.
/// </summary>
internal sealed class CachedUpstream(ContentCache cache, UpstreamClient upstream, ILogger logger)
{
    private const int MaxErrorBody = 64 << 10;

    /// <summary>
    /// Turns a 200 upstream body into what is stored (a rewrite of metadata), reading it whole; null stores it as it is.
    /// </summary>
    public delegate Task<Stream> BodyTransform(UpstreamResponse response, CancellationToken cancellationToken);

    /// <summary>The cache underneath.</summary>
    public ContentCache Cache => cache;

    /// <summary>The upstream client (for scopes and direct requests).</summary>
    public UpstreamClient Upstream => upstream;

    /// <summary>
    /// Answers <paramref name="request"/> with the entry for <paramref name="key"/>, fetched by
    /// <paramref name="upstreamRequest"/> when missing. <paramref name="options"/> says how to store it (TTL for
    /// metadata, a pinned digest that a mismatch refuses with 502 <c>digest_mismatch</c>); the content type comes from
    /// the upstream unless the options name one. With <paramref name="answerWithin"/>, a fetch that has not finished in
    /// that time stops being waited for (it goes on filling the cache for later askers) and this throws
    /// <see cref="UpstreamFailedException"/> with a <see cref="TimeoutException"/> inside, before anything is written.
    /// </summary>
    public async Task ServeAsync(
        GatewayRequest request, CacheKey key, UpstreamRequest upstreamRequest, CacheEntryOptions options, RouteCounterSet.Counters counters,
        BodyTransform? transform = null, TimeSpan? answerWithin = null)
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            CacheResult result;
            using var bound = answerWithin is null ? null : CancellationTokenSource.CreateLinkedTokenSource(request.Aborted);
            if (answerWithin is { } within)
            {
                bound!.CancelAfter(within);
            }

            try
            {
                result = await cache.GetOrFetchAsync(
                    key, token => FillAsync(request.Client, key, upstreamRequest, options, transform, token), bound?.Token ?? request.Aborted);
            }
            catch (OperationCanceledException ex) when (bound is { IsCancellationRequested: true } && !request.Aborted.IsCancellationRequested)
            {
                throw new UpstreamFailedException($"the upstream sent no answer within {answerWithin}", new TimeoutException(ex.Message, ex));
            }
            catch (UpstreamStatusException status) when (status.IsServerFailure)
            {
                throw new UpstreamFailedException($"the upstream answered {status.Status}", status);
            }
            catch (UpstreamStatusException status)
            {
                counters.Bypass();
                await ResponseWriter.PassStatusAsync(request, status, counters);
                return;
            }
            catch (CacheIntegrityException ex) when (options.ExpectedDigest is not null)
            {
                throw new GatewayRefusalException(
                    502, ReasonCode.DigestMismatch, $"the upstream's bytes do not match the pinned digest ({ex.Actual}); nothing was cached");
            }

            var state = result.Outcome switch { CacheOutcome.Hit => "hit", CacheOutcome.Stale => "stale", _ => "miss" };

            // Whoever filled the entry, the hosts its redirects went through must be allowed for this asker too.
            await RedirectRecords.CheckAsync(cache, key, request);
            if (await ResponseWriter.ServeEntryAsync(request, cache.OpenRead(result), result.Entry, state, counters, logger))
            {
                switch (result.Outcome)
                {
                    case CacheOutcome.Hit:
                        counters.Hit();
                        break;
                    case CacheOutcome.Stale:
                        counters.Stale();
                        logger.LogInformation("gateway: served stale {Key}: {Error}", key.ToString(), result.UpstreamFailure?.Message);
                        break;
                    default:
                        counters.Miss();
                        break;
                }

                return;
            }

            // Evicted between the answer and the open: one more go fetches it again.
        }

        throw new UpstreamFailedException("the object was evicted from the cache twice while being served");
    }

    private async Task<CacheFill> FillAsync(
        GatewayClient client, CacheKey key, UpstreamRequest request, CacheEntryOptions options, BodyTransform? transform, CancellationToken token)
    {
        var response = await upstream.SendAsync(client, request, token);
        try
        {
            if (response.Status != 200)
            {
                throw new UpstreamStatusException(response.Status, response.ContentType, await response.ReadPrefixAsync(MaxErrorBody, token));
            }

            await RedirectRecords.RecordAsync(cache, key, response, token);
            var body = response.Body;
            if (transform is not null)
            {
                // A transform reads the (small, bounded) body whole; the upstream response is done with after it.
                body = await transform(response, token);
                await response.DisposeAsync();
            }

            var stored = options.ContentType.Length > 0 ? options : options with { ContentType = response.ContentType };
            return new CacheFill(body, stored);
        }
        catch
        {
            await response.DisposeAsync();
            throw;
        }
    }
}
