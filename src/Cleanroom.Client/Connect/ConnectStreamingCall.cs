using System.Buffers.Binary;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;

namespace Cleanroom.Client.Connect;

/// <summary>
/// One server-streaming call over the Connect protocol with binary messages (<c>application/connect+proto</c>) on
/// HTTP/1.1: the request is sent at the first <see cref="MoveNext"/>, then every envelope is one response message until
/// the end-of-stream envelope, whose error (if any) is thrown as the <see cref="RpcException"/> a gRPC call would throw.
/// Failures of the transport are <see cref="StatusCode.Unavailable"/> with the cause as the debug exception, as
/// Grpc.Net.Client reports them, so callers handle both kinds of call alike. What the daemon sends is bounded: a
/// message of at most <see cref="MaxMessageBytes"/>, an end-of-stream or error body of at most
/// <see cref="MaxEndOfStreamBytes"/>.
/// </summary>
public sealed class ConnectStreamingCall<TResponse> : IAsyncStreamReader<TResponse>, IDisposable
    where TResponse : class, IMessage<TResponse>
{
    /// <summary>As Grpc.Net.Client's default receive limit: the daemon's output events are at most 256 KiB.</summary>
    public const int MaxMessageBytes = 4 << 20;

    /// <summary>The end-of-stream JSON (an error and trailers) is small; more is not the daemon speaking.</summary>
    public const int MaxEndOfStreamBytes = 64 << 10;

    private const int EnvelopeHeader = 5;
    private const byte CompressedFlag = 0x01;
    private const byte EndStreamFlag = 0x02;

    private readonly HttpClient _http;
    private readonly string _path;
    private readonly byte[] _envelope;
    private readonly MessageParser<TResponse> _parser;
    private readonly CancellationTokenSource _cancel;
    private readonly byte[] _header = new byte[EnvelopeHeader];
    private HttpResponseMessage? _response;
    private Stream? _body;
    private bool _ended;
    private TResponse? _current;

    internal ConnectStreamingCall(HttpClient http, string path, IMessage request, MessageParser<TResponse> parser, CancellationToken cancellationToken)
    {
        _http = http;
        _path = path;
        // The request as its one envelope, serialised in place.
        var size = request.CalculateSize();
        _envelope = new byte[EnvelopeHeader + size];
        BinaryPrimitives.WriteUInt32BigEndian(_envelope.AsSpan(1), (uint)size);
        request.WriteTo(_envelope.AsSpan(EnvelopeHeader));
        _parser = parser;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    /// <inheritdoc/>
    public TResponse Current => _current ?? throw new InvalidOperationException("no message yet: call MoveNext first");

    /// <inheritdoc/>
    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (_ended)
        {
            return false;
        }

        using var link = cancellationToken.CanBeCanceled ? cancellationToken.Register(_cancel.Cancel) : default;
        try
        {
            var body = _body ??= await StartAsync();
            if (!await ReadHeaderAsync(body))
            {
                throw Broken("the daemon's stream ended without its end-of-stream message", null);
            }

            var flags = _header[0];
            var length = BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(1));
            if ((flags & CompressedFlag) != 0)
            {
                throw new RpcException(new Status(StatusCode.Internal, "the daemon sent a compressed message, which this client did not ask for"));
            }

            var limit = (flags & EndStreamFlag) != 0 ? MaxEndOfStreamBytes : MaxMessageBytes;
            if (length > (uint)limit)
            {
                throw new RpcException(new Status(StatusCode.ResourceExhausted, $"the daemon sent a message of {length} bytes; this client takes at most {limit}"));
            }

            var payload = GC.AllocateUninitializedArray<byte>((int)length);
            await body.ReadExactlyAsync(payload, _cancel.Token);
            if ((flags & EndStreamFlag) != 0)
            {
                _ended = true;
                ConnectErrorBody.ThrowIfError(payload);
                return false;
            }

            _current = _parser.ParseFrom(payload);
            return true;
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled by the client"));
        }
        catch (EndOfStreamException ex)
        {
            throw Broken("the daemon's stream ended inside a message", ex);
        }
        catch (InvalidProtocolBufferException ex)
        {
            // Before IOException, which it derives from: the bytes arrived, they are just not the message.
            throw new RpcException(new Status(StatusCode.Internal, "the daemon sent a message this client cannot read: " + ex.Message, ex));
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw Broken("the connection to the daemon failed: " + ex.Message, ex);
        }
    }

    /// <summary>Ends the call: the daemon sees the connection close, as with a cancelled gRPC call.</summary>
    public void Dispose()
    {
        _cancel.Cancel();
        _body?.Dispose();
        _response?.Dispose();
        _cancel.Dispose();
    }

    private static RpcException Broken(string why, Exception? cause) => new(new Status(StatusCode.Unavailable, why, cause));

    private async Task<Stream> StartAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _path)
        {
            Version = System.Net.HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(_envelope),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/connect+proto");
        request.Headers.Add("Connect-Protocol-Version", "1");
        _response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _cancel.Token);
        if (!_response.IsSuccessStatusCode)
        {
            // A call refused before it started (an unknown method, a bad request) is a unary-style error body.
            var body = await ReadBoundedAsync(await _response.Content.ReadAsStreamAsync(_cancel.Token));
            throw ConnectErrorBody.FromHttpFailure((int)_response.StatusCode, body);
        }

        var type = _response.Content.Headers.ContentType?.MediaType;
        if (!string.Equals(type, "application/connect+proto", StringComparison.OrdinalIgnoreCase))
        {
            throw new RpcException(new Status(StatusCode.Internal, $"the daemon answered with content type {type ?? "(none)"}, not application/connect+proto"));
        }

        return await _response.Content.ReadAsStreamAsync(_cancel.Token);
    }

    /// <summary>True with a whole envelope header read; false at the body's end before one; throws inside one.</summary>
    private async Task<bool> ReadHeaderAsync(Stream body)
    {
        var got = await body.ReadAtLeastAsync(_header, EnvelopeHeader, throwOnEndOfStream: false, _cancel.Token);
        if (got is > 0 and < EnvelopeHeader)
        {
            throw new EndOfStreamException();
        }

        return got == EnvelopeHeader;
    }

    private async Task<byte[]> ReadBoundedAsync(Stream body)
    {
        var buffer = new byte[MaxEndOfStreamBytes];
        var got = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, _cancel.Token);
        return buffer[..got];
    }
}
