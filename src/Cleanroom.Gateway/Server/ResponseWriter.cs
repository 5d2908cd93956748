using System.Buffers;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Upstream;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Gateway.Server;

/// <summary>Writes gateway answers: cached entries (verified while they stream), upstream pass-throughs and small bodies.</summary>
internal static class ResponseWriter
{
    /// <summary>The response header that says where an answer came from: hit, miss, stale or bypass.</summary>
    public const string CacheHeader = "X-Cleanroom-Cache";

    private const int BufferSize = 256 << 10;

    /// <summary>
    /// Streams a cached body. The last buffer is held back until the verifying stream has reached its end and
    /// vouched for the bytes, so a corrupt blob never reaches the guest as a complete response: the connection is
    /// aborted instead (the store has already dropped the blob, so the next request fetches it again). False when the
    /// blob is gone (evicted meanwhile) and nothing was written.
    /// </summary>
    public static async Task<bool> ServeEntryAsync(
        GatewayRequest request, Stream? body, CacheEntry entry, string cacheState, RouteCounterSet.Counters counters, ILogger logger)
    {
        if (body is null)
        {
            return false;
        }

        await using (body)
        {
            var response = request.Http.Response;
            response.StatusCode = entry.UpstreamStatus;
            if (entry.ContentType.Length > 0)
            {
                response.ContentType = entry.ContentType;
            }

            response.ContentLength = entry.Size;
            response.Headers[CacheHeader] = cacheState;
            if (HttpMethods.IsHead(request.Http.Request.Method))
            {
                return true;
            }

            await StreamVerifiedAsync(request, body, counters, logger, entry.Key, plainReads: true, entry.Size);
            return true;
        }
    }

    /// <summary>
    /// Streams a verifying body to the guest with its last buffer held back until the stream has reached its end and
    /// vouched for the bytes; a verification failure aborts the connection instead of completing the response.
    /// <paramref name="plainReads"/>: the body is a file (a plain read costs less than an async one: on Linux that is
    /// the same blocking read on a pool thread plus two hand-offs; measured with bench/gateway_cache, 556 -> 912 MB/s
    /// for 100 MB, and more requests/s for small blobs). <paramref name="length"/>, when known, sizes the buffers: a
    /// small body takes one buffer just big enough (and one write), not two of 256 KiB. <paramref name="what"/> names
    /// the body in the log (a cache key is only turned into text when something is logged).
    /// </summary>
    /// <remarks>
    /// Each buffer's write to the guest is in flight while the next one is read and hashed (three buffers: one being
    /// sent, one held back, one being filled), so on a large body the hashing and the sending run side by side
    /// instead of taking turns. The held-back buffer still goes out only after the end of the body has been verified.
    /// </remarks>
    public static async Task StreamVerifiedAsync(
        GatewayRequest request, Stream body, RouteCounterSet.Counters counters, ILogger logger, object what, bool plainReads, long? length = null)
    {
        if (body is VerifyingReadStream blob)
        {
            await SendBlobAsync(request, blob, counters, logger, what);
            return;
        }

        var output = request.Http.Response.Body;

        // One byte more than a small body: the read after it must have room to say "end of file" (an empty read is
        // not one, see VerifyingReadStream).
        var size = length is { } known && known < BufferSize ? (int)known + 1 : BufferSize;
        var held = ArrayPool<byte>.Shared.Rent(size);
        var next = ArrayPool<byte>.Shared.Rent(size);
        byte[]? sending = null;
        var pending = ValueTask.CompletedTask;
        var pendingCount = 0;
        var heldCount = 0;
        long sent = 0;
        try
        {
            while (true)
            {
                var n = plainReads ? body.Read(next, 0, size) : await body.ReadAsync(next.AsMemory(0, size), request.Aborted);
                var done = pending;
                pending = ValueTask.CompletedTask;
                await done;
                sent += pendingCount;
                pendingCount = 0;
                if (n == 0)
                {
                    // End of the body: the stream has compared the hash, so the held bytes are vouched for.
                    await output.WriteAsync(held.AsMemory(0, heldCount), request.Aborted);
                    sent += heldCount;
                    break;
                }

                if (heldCount > 0)
                {
                    // Send the held buffer (the previous send is done, so its buffer is free to fill next).
                    pending = output.WriteAsync(held.AsMemory(0, heldCount), request.Aborted);
                    pendingCount = heldCount;
                    var free = sending ?? ArrayPool<byte>.Shared.Rent(size);
                    (sending, held, next) = (held, next, free);
                }
                else
                {
                    (held, next) = (next, held);
                }

                heldCount = n;
            }
        }
        catch (Exception ex) when (ex is CacheIntegrityException or InvalidOperationException)
        {
            logger.LogWarning(
                "gateway: cached object {Key} failed verification while being served to sandbox {Sandbox} ({Error}); aborted the response, the next request refetches",
                what, request.Client.SandboxId, ex.Message);
            request.Http.Abort();
        }
        finally
        {
            try
            {
                // A send may still be in flight when the read failed; its buffer goes back to the pool only after it.
                await pending;
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                // The connection is gone (or was just aborted above); nothing more to send.
            }
            finally
            {
                counters.Served(sent);
                ArrayPool<byte>.Shared.Return(held);
                ArrayPool<byte>.Shared.Return(next);
                if (sending is not null)
                {
                    ArrayPool<byte>.Shared.Return(sending);
                }
            }
        }
    }

    /// <summary>
    /// Sends a cached blob by reading it straight into the server's output buffers (no buffer of ours, so one copy of
    /// every byte fewer; measured with bench/gateway_cache). The blob's length is known, so the read that brings its
    /// last bytes is recognised, and the whole blob is verified before those bytes are committed to the response: a
    /// corrupt blob never reaches the guest as a complete response, the connection is aborted instead.
    /// </summary>
    private static async Task SendBlobAsync(GatewayRequest request, VerifyingReadStream blob, RouteCounterSet.Counters counters, ILogger logger, object what)
    {
        var response = request.Http.Response;
        var writer = response.BodyWriter;
        long sent = 0;
        try
        {
            // Headers first, so the body's buffers are the connection's own from the first byte (before the response
            // starts, the server stages body bytes aside and copies them in later).
            await response.StartAsync(request.Aborted);
            while (blob.Position < blob.Length)
            {
                var want = (int)Math.Min(BufferSize, blob.Length - blob.Position);
                var read = blob.Read(writer.GetMemory(want).Span[..want]);
                if (read == 0)
                {
                    // Shorter than when it was opened: the verdict below says so.
                    break;
                }

                if (blob.Position == blob.Length)
                {
                    blob.Finish();
                }

                writer.Advance(read);
                var flushed = await writer.FlushAsync(request.Aborted);
                sent += read;
                if (flushed.IsCanceled || flushed.IsCompleted)
                {
                    return;
                }
            }

            blob.Finish();
        }
        catch (CacheIntegrityException ex)
        {
            logger.LogWarning(
                "gateway: cached object {Key} failed verification while being served to sandbox {Sandbox} ({Error}); aborted the response, the next request refetches",
                what, request.Client.SandboxId, ex.Message);
            request.Http.Abort();
        }
        finally
        {
            counters.Served(sent);
        }
    }

    /// <summary>Streams an upstream answer straight through, uncached (bounded by the upstream client).</summary>
    public static async Task PassThroughAsync(GatewayRequest request, UpstreamResponse upstream, RouteCounterSet.Counters counters)
    {
        var response = request.Http.Response;
        response.StatusCode = upstream.Status;
        if (upstream.ContentType.Length > 0)
        {
            response.ContentType = upstream.ContentType;
        }

        response.Headers[CacheHeader] = "bypass";
        if (HttpMethods.IsHead(request.Http.Request.Method))
        {
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long sent = 0;
        try
        {
            int n;
            while ((n = await upstream.Body.ReadAsync(buffer, request.Aborted)) > 0)
            {
                await response.Body.WriteAsync(buffer.AsMemory(0, n), request.Aborted);
                sent += n;
            }
        }
        catch (UpstreamFailedException) when (response.HasStarted)
        {
            // Headers are out: the only honest signal left is a broken connection.
            request.Http.Abort();
        }
        finally
        {
            counters.Served(sent);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Sends an upstream status the gateway passes on uncached (a 404, a 401), with the start of its body.</summary>
    public static async Task PassStatusAsync(GatewayRequest request, UpstreamStatusException status, RouteCounterSet.Counters counters)
    {
        var response = request.Http.Response;
        response.StatusCode = status.Status;
        if (status.ContentType.Length > 0)
        {
            response.ContentType = status.ContentType;
        }

        response.Headers[CacheHeader] = "bypass";
        response.ContentLength = status.Body.Length;
        if (!HttpMethods.IsHead(request.Http.Request.Method))
        {
            await response.Body.WriteAsync(status.Body, request.Aborted);
            counters.Served(status.Body.Length);
        }
    }
}
