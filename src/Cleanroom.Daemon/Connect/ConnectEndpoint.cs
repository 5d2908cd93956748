using System.Text.Json;
using Cleanroom.Escaping;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon.Connect;

/// <summary>
/// The Connect protocol (https://connectrpc.com/docs/protocol) on the gRPC paths: a POST to
/// <c>/cleanroom.v1.Service/Method</c> whose content type is not gRPC's is served here, unary
/// (<c>application/proto</c>, <c>application/json</c>) or server-streaming (<c>application/connect+proto</c>,
/// <c>application/connect+json</c>), by the same service objects and interceptors as gRPC; so is a GET of a unary
/// method marked <c>NO_SIDE_EFFECTS</c> in its .proto. Requests and responses may be gzipped. Anything else passes on.
/// </summary>
internal sealed class ConnectEndpoint(RequestDelegate next, ConnectMethods methods, DaemonOptions options, ILogger<ConnectEndpoint> logger)
{
    private static readonly int MaxTimerMilliseconds = int.MaxValue - 1;

    public async Task InvokeAsync(HttpContext http)
    {
        var contentType = http.Request.ContentType ?? "";
        if (contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) || !LooksLikeProcedure(http.Request.Path.Value))
        {
            await next(http);
            return;
        }

        var isGet = HttpMethods.IsGet(http.Request.Method);
        var shape = isGet ? null : ConnectRequest.Classify(contentType);
        try
        {
            if (!methods.TryFind(http.Request.Path.Value!, out var method))
            {
                throw new ConnectException(StatusCode.Unimplemented, ReasonCode.RouteNotFound, $"no procedure {UntrustedText.Quote(http.Request.Path.Value!)} in this daemon's API") { HttpStatus = StatusCodes.Status404NotFound };
            }

            // GET serves only unary methods their .proto marks free of side effects (idempotency_level = NO_SIDE_EFFECTS),
            // so a link, a prefetch or a cache cannot change anything.
            var gettable = method.Type == MethodType.Unary && method.HasNoSideEffects;
            if (isGet && gettable)
            {
                var (get, message) = ConnectRequest.ReadGet(http.Request);
                await ServeUnaryAsync(http, method, get, message);
                return;
            }

            if (!HttpMethods.IsPost(http.Request.Method))
            {
                http.Response.Headers.Allow = gettable ? "GET, POST" : "POST";
                var why = isGet
                    ? $"{method.Name} may change the daemon's state, so it is called with POST only (GET serves the methods marked NO_SIDE_EFFECTS)"
                    : gettable ? "Connect calls are POST requests, or GET for this method" : "Connect calls to this method are POST requests";
                throw new ConnectException(StatusCode.Unimplemented, ReasonCode.MethodNotAllowed, why) { HttpStatus = StatusCodes.Status405MethodNotAllowed };
            }

            if (shape is null || shape.Value.Streaming != (method.Type != MethodType.Unary))
            {
                http.Response.Headers["Accept-Post"] = ConnectRequest.Accepted;
                var expected = method.Type == MethodType.Unary ? "application/json or application/proto" : "application/connect+json or application/connect+proto";
                throw new ConnectException(StatusCode.InvalidArgument, ReasonCode.InvalidRequest, $"{method.Name} takes {expected} (or gRPC, gRPC-Web), not {UntrustedText.Quote(contentType)}") { HttpStatus = StatusCodes.Status415UnsupportedMediaType };
            }

            if (method.Type is MethodType.ClientStreaming or MethodType.DuplexStreaming)
            {
                throw new ConnectException(StatusCode.Unimplemented, ReasonCode.RouteNotImplemented, $"{method.Name} streams requests from the client, which the Connect protocol cannot carry over HTTP/1.1; call it over gRPC");
            }

            var request = ConnectRequest.Read(http.Request, shape.Value.Codec, shape.Value.Streaming);
            if (request.Streaming)
            {
                await ServeStreamAsync(http, method, request);
            }
            else
            {
                await ServeUnaryAsync(http, method, request);
            }
        }
        catch (ConnectException refused)
        {
            if (shape is { Streaming: true } && refused.HttpStatus is null)
            {
                await EndStreamAsync(http, shape.Value.Codec, refused, null);
            }
            else
            {
                await WriteUnaryErrorAsync(http, refused);
            }
        }
    }

    /// <summary><c>/pkg.Service/Method</c>: two non-empty segments, the first a dotted name.</summary>
    private static bool LooksLikeProcedure(string? path)
    {
        if (path is null || path.Length < 4 || path[0] != '/')
        {
            return false;
        }

        var slash = path.IndexOf('/', 1);
        return slash > 1 && slash < path.Length - 1 && path.IndexOf('/', slash + 1) < 0 && path.AsSpan(1, slash - 1).Contains('.');
    }

    /// <summary>A unary call; <paramref name="getMessage"/> is a GET's message from its query, else the body is read.</summary>
    private async Task ServeUnaryAsync(HttpContext http, ConnectMethod method, ConnectRequest request, byte[]? getMessage = null)
    {
        using var call = new CallScope(http, request.Timeout);
        try
        {
            var body = getMessage ?? await ReadBodyAsync(http.Request, call.Token);
            if (request.RequestGzip)
            {
                body = ConnectCompression.Decompress(body, ControlApiLimits.MaxMessageBytes);
            }

            var message = request.Codec.Parse(body, method.RequestDescriptor);
            var context = new ConnectCallContext(http, method, call.Deadline, call.Token);
            IMessage response;
            await using (var interceptors = new ConnectInterceptors(http.RequestServices))
            {
                response = await method.InvokeUnaryAsync(http, message, context, interceptors.All);
            }

            var bytes = Serialize(request.Codec, response, method);
            if (request.ResponseGzip && bytes.Length >= ControlApiLimits.CompressMinBytes)
            {
                bytes = ConnectCompression.Compress(bytes);
                http.Response.Headers.ContentEncoding = ConnectCompression.Gzip;
            }

            if (getMessage is not null)
            {
                http.Response.Headers.Vary = "Accept-Encoding";
            }

            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.ContentType = "application/" + request.Codec.Name;
            http.Response.ContentLength = bytes.Length;
            await http.Response.Body.WriteAsync(bytes, http.RequestAborted);
        }
        catch (Exception ex)
        {
            await WriteUnaryErrorAsync(http, Translate(ex, method, call));
        }
    }

    private async Task ServeStreamAsync(HttpContext http, ConnectMethod method, ConnectRequest request)
    {
        using var call = new CallScope(http, request.Timeout);
        ConnectException? failure = null;
        ConnectCallContext? context = null;
        try
        {
            var first = await ConnectEnvelope.ReadAsync(http.Request.Body, ControlApiLimits.MaxMessageBytes, call.Token)
                ?? throw ConnectException.InvalidArgument($"{method.Name} needs one request message; the body had none");
            if ((first.Flags & ~ConnectEnvelope.Compressed) != 0)
            {
                throw ConnectException.InvalidArgument($"the request message has flags 0x{first.Flags:x2}; a request message has 0x00, or 0x01 when compressed");
            }

            var data = first.Data;
            if ((first.Flags & ConnectEnvelope.Compressed) != 0)
            {
                data = request.RequestGzip
                    ? ConnectCompression.Decompress(data, ControlApiLimits.MaxMessageBytes)
                    : throw ConnectException.InvalidArgument("the request message is marked compressed (0x01), but Connect-Content-Encoding names no compression");
            }

            if (!await ConnectEnvelope.AtEndAsync(http.Request.Body, call.Token))
            {
                throw ConnectException.InvalidArgument($"{method.Name} takes exactly one request message");
            }

            var message = request.Codec.Parse(data, method.RequestDescriptor);
            context = new ConnectCallContext(http, method, call.Deadline, call.Token);
            await using var interceptors = new ConnectInterceptors(http.RequestServices);
            await method.InvokeServerStreamingAsync(
                http,
                message,
                async response =>
                {
                    var bytes = Serialize(request.Codec, response, method);
                    var flags = (byte)0;
                    if (request.ResponseGzip && bytes.Length >= ControlApiLimits.CompressMinBytes)
                    {
                        bytes = ConnectCompression.Compress(bytes);
                        flags = ConnectEnvelope.Compressed;
                    }

                    await StartStreamAsync(http, request);
                    await ConnectEnvelope.WriteAsync(http.Response.Body, flags, bytes, call.Token);
                },
                context,
                interceptors.All);
        }
        catch (Exception ex)
        {
            failure = Translate(ex, method, call);
        }

        if (http.RequestAborted.IsCancellationRequested)
        {
            return; // the client went away; there is no one to tell
        }

        await EndStreamAsync(http, request.Codec, failure, context?.ResponseTrailers, request);
    }

    /// <summary>
    /// Sends the stream's headers once: the content type and, when the client accepts gzip, the encoding its messages
    /// may use (each compressed one carries the 0x01 flag; small ones and the end of the stream are sent as they are).
    /// </summary>
    private static async Task StartStreamAsync(HttpContext http, ConnectCodec codec, ConnectRequest? request)
    {
        if (!http.Response.HasStarted)
        {
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.ContentType = "application/connect+" + codec.Name;
            if (request is { ResponseGzip: true })
            {
                http.Response.Headers["Connect-Content-Encoding"] = ConnectCompression.Gzip;
            }

            await http.Response.StartAsync(http.RequestAborted);
        }
    }

    private static Task StartStreamAsync(HttpContext http, ConnectRequest request) => StartStreamAsync(http, request.Codec, request);

    /// <summary>
    /// A response message in the call's codec, refused with <c>resource_exhausted</c> when it is larger than
    /// <see cref="DaemonOptions.MaxResponseMessageBytes"/>: the client gets that error instead of the message. An
    /// <see cref="RpcException"/>, so that it passes the interceptors unchanged when a stream's write throws it.
    /// </summary>
    private byte[] Serialize(ConnectCodec codec, IMessage response, ConnectMethod method)
    {
        var bytes = codec.Serialize(response);
        return bytes.Length <= options.MaxResponseMessageBytes
            ? bytes
            : throw ControlApiLimits.ResponseTooLarge(method.Name, bytes.Length, options.MaxResponseMessageBytes, codec.Name);
    }

    /// <summary>The end-of-stream frame: <c>{}</c> after success, <c>{"error": {...}}</c> after a failure, with any trailers.</summary>
    private static async Task EndStreamAsync(HttpContext http, ConnectCodec codec, ConnectException? error, Metadata? trailers, ConnectRequest? request = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (error is not null)
            {
                json.WritePropertyName("error");
                ConnectErrors.Write(json, error);
            }

            if (trailers is { Count: > 0 })
            {
                json.WriteStartObject("metadata");
                foreach (var group in trailers.Where(t => !t.IsBinary).GroupBy(t => t.Key, StringComparer.Ordinal))
                {
                    json.WriteStartArray(group.Key);
                    foreach (var entry in group)
                    {
                        json.WriteStringValue(entry.Value);
                    }

                    json.WriteEndArray();
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        try
        {
            await StartStreamAsync(http, codec, request);
            await ConnectEnvelope.WriteAsync(http.Response.Body, ConnectEnvelope.EndStream, buffer.WrittenMemory, http.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The client left while the stream ended.
        }
    }

    private static async Task WriteUnaryErrorAsync(HttpContext http, ConnectException error)
    {
        if (http.Response.HasStarted || http.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var body = ConnectErrors.ToJson(error);
        http.Response.StatusCode = error.HttpStatus ?? ConnectErrors.HttpStatus(error.Code);
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = body.Length;
        try
        {
            await http.Response.Body.WriteAsync(body, http.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The client left before its error was sent.
        }
    }

    /// <summary>The unary request body, refused past the message size limit before more of it is read.</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        const int limit = ControlApiLimits.MaxMessageBytes;
        if (request.ContentLength > limit)
        {
            throw TooLarge(request.ContentLength.Value);
        }

        using var body = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (body.Length + read > limit)
            {
                throw TooLarge(body.Length + read);
            }

            body.Write(chunk, 0, read);
        }

        return body.ToArray();
    }

    private static ConnectException TooLarge(long bytes) =>
        new(StatusCode.ResourceExhausted, ReasonCode.RequestTooLarge, $"the request message is at least {bytes} bytes; the limit is {ControlApiLimits.MaxMessageBytes}");

    /// <summary>Any failure of a call as the client should read it; the deadline outranks the cancellation it causes.</summary>
    private ConnectException Translate(Exception ex, ConnectMethod method, CallScope call)
    {
        switch (ex)
        {
            case ConnectException connect:
                return connect;
            case RpcException or OperationCanceledException when call.DeadlinePassed:
                return new ConnectException(StatusCode.DeadlineExceeded, ReasonCode.Unspecified, $"{method.Name} did not finish within Connect-Timeout-Ms");
            case RpcException rpc:
                return ConnectErrors.FromRpc(rpc);
            case OperationCanceledException or IOException when call.ClientGone:
                return new ConnectException(StatusCode.Cancelled, ReasonCode.Unspecified, "the request was cancelled");
            default:
                logger.LogError(ex, "{Method} failed over Connect", method.Path);
                return new ConnectException(StatusCode.Internal, ReasonCode.Internal, "internal: " + UntrustedText.Escape(ex.Message, 500));
        }
    }

    /// <summary>A call's deadline (from Connect-Timeout-Ms) and its token: cancelled by the deadline or the client leaving.</summary>
    private sealed class CallScope : IDisposable
    {
        private readonly CancellationTokenSource _deadline = new();
        private readonly CancellationTokenSource _linked;
        private readonly CancellationToken _aborted;

        public CallScope(HttpContext http, TimeSpan? timeout)
        {
            _aborted = http.RequestAborted;
            Deadline = DateTime.MaxValue;
            if (timeout is { } t && t.TotalMilliseconds < MaxTimerMilliseconds)
            {
                Deadline = DateTime.UtcNow + t;
                _deadline.CancelAfter(t);
            }

            _linked = CancellationTokenSource.CreateLinkedTokenSource(_aborted, _deadline.Token);
        }

        public DateTime Deadline { get; }

        public CancellationToken Token => _linked.Token;

        public bool DeadlinePassed => _deadline.IsCancellationRequested && !_aborted.IsCancellationRequested;

        public bool ClientGone => _aborted.IsCancellationRequested;

        public void Dispose()
        {
            _linked.Dispose();
            _deadline.Dispose();
        }
    }
}
