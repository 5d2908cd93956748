using System.Net;
using System.Text;
using Cleanroom.Api.V1;
using Google.Protobuf;

namespace Cleanroom.ControlApi.Bench;

/// <summary>
/// One protocol as a client speaks it, on one HTTP version: a unary SystemService.GetVersion call and a
/// StreamExecution read to its end (returning the stdout bytes received). Responses are parsed, as a client would.
/// </summary>
internal abstract class Protocol(string name, Version http)
{
    private const string GetVersion = "/cleanroom.v1.SystemService/GetVersion";
    private const string StreamExecution = "/cleanroom.v1.ExecutionService/StreamExecution";

    public string Name { get; } = name;

    public Version Http { get; } = http;

    public static IReadOnlyList<Protocol> All { get; } =
    [
        new Connect("Connect JSON", HttpVersion.Version11, json: true),
        new Connect("Connect JSON", HttpVersion.Version20, json: true),
        new Connect("Connect proto", HttpVersion.Version11, json: false),
        new Connect("Connect proto", HttpVersion.Version20, json: false),
        new Grpc(),
        new GrpcWeb(),
    ];

    public abstract Task UnaryAsync(Transport transport);

    public abstract Task<long> StreamAsync(Transport transport, StreamExecutionRequest request);

    /// <summary>Connect: unary as a plain POST of the message, streams as enveloped messages and an end-of-stream frame.</summary>
    private sealed class Connect(string name, Version http, bool json) : Protocol(name, http)
    {
        private readonly string _unaryType = json ? "application/json" : "application/proto";
        private readonly string _streamType = json ? "application/connect+json" : "application/connect+proto";

        public override async Task UnaryAsync(Transport transport)
        {
            using var request = Wire.Post(GetVersion, _unaryType, json ? "{}"u8.ToArray() : [], "Connect-Protocol-Version", "1");
            using var response = await transport.Http(Http).SendAsync(request);
            response.EnsureSuccessStatusCode();
            var body = await response.Content.ReadAsByteArrayAsync();
            _ = json ? JsonParser.Default.Parse<GetVersionResponse>(Encoding.UTF8.GetString(body)) : GetVersionResponse.Parser.ParseFrom(body);
        }

        public override async Task<long> StreamAsync(Transport transport, StreamExecutionRequest request)
        {
            var message = json ? Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(request)) : request.ToByteArray();
            using var post = Wire.Post(StreamExecution, _streamType, Wire.Envelope(message), "Connect-Protocol-Version", "1");
            using var response = await transport.Http(Http).SendAsync(post, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync();
            var header = new byte[5];
            long received = 0;
            while (await Wire.ReadFrameAsync(body, header) is { } frame)
            {
                var (flags, data) = frame;
                if ((flags & Wire.ConnectEndStream) != 0)
                {
                    return Encoding.UTF8.GetString(data) == "{}" ? received : throw new InvalidDataException("the stream ended with " + Encoding.UTF8.GetString(data));
                }

                received += (json ? JsonParser.Default.Parse<ExecutionStreamEvent>(Encoding.UTF8.GetString(data)) : ExecutionStreamEvent.Parser.ParseFrom(data)).Stdout.Length;
            }

            throw new InvalidDataException("the stream ended without its end-of-stream frame");
        }
    }

    /// <summary>gRPC through the SDK's channel (Grpc.Net.Client), HTTP/2 only.</summary>
    private sealed class Grpc() : Protocol("gRPC", HttpVersion.Version20)
    {
        public override async Task UnaryAsync(Transport transport) => await transport.Grpc.System.GetVersionAsync(new GetVersionRequest());

        public override async Task<long> StreamAsync(Transport transport, StreamExecutionRequest request)
        {
            using var call = transport.Grpc.Executions.StreamExecution(request);
            long received = 0;
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                received += call.ResponseStream.Current.Stdout.Length;
            }

            return received;
        }
    }

    /// <summary>gRPC-Web (binary) over HTTP/1.1, as a browser speaks it: framed messages, then a trailers frame.</summary>
    private sealed class GrpcWeb() : Protocol("gRPC-Web", HttpVersion.Version11)
    {
        public override async Task UnaryAsync(Transport transport) =>
            await CallAsync(transport, GetVersion, new GetVersionRequest(), data => GetVersionResponse.Parser.ParseFrom(data).CalculateSize());

        public override Task<long> StreamAsync(Transport transport, StreamExecutionRequest request) =>
            CallAsync(transport, StreamExecution, request, data => ExecutionStreamEvent.Parser.ParseFrom(data).Stdout.Length);

        private static async Task<long> CallAsync(Transport transport, string path, IMessage request, Func<byte[], long> parse)
        {
            using var post = Wire.Post(path, "application/grpc-web+proto", Wire.Envelope(request.ToByteArray()), "X-Grpc-Web", "1");
            using var response = await transport.Http1.SendAsync(post, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync();
            var header = new byte[5];
            long received = 0;
            while (await Wire.ReadFrameAsync(body, header) is { } frame)
            {
                var (flags, data) = frame;
                if ((flags & Wire.GrpcWebTrailers) != 0)
                {
                    var trailers = Encoding.ASCII.GetString(data);
                    var status = trailers.Split("\r\n").FirstOrDefault(l => l.StartsWith("grpc-status:", StringComparison.OrdinalIgnoreCase));
                    return status?["grpc-status:".Length..].Trim() == "0" ? received : throw new InvalidDataException("the call failed: " + trailers);
                }

                received += parse(data);
            }

            throw new InvalidDataException("the response ended without its trailers");
        }
    }
}
