using System.Buffers.Binary;
using Cleanroom.Api.V1;
using Cleanroom.Client;
using Cleanroom.Client.Connect;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Cli.Tests;

/// <summary>
/// The client side of a Connect server stream (what the CLI follows a command's output with on a unix socket) against
/// a server that answers with exactly the bytes each test writes: whatever it sends, the caller gets messages or the
/// RpcException a gRPC call would have thrown, never more memory than the limits allow.
/// </summary>
public sealed class ConnectStreamingCallTests : IAsyncLifetime
{
    private const string Procedure = "/cleanroom.v1.ExecutionService/RunExecution";
    private readonly string _directory = Directory.CreateTempSubdirectory("cleanroom-connect-").FullName;
    private WebApplication? _server;
    private ConnectChannel? _channel;
    private Func<HttpContext, Task> _answer = _ => Task.CompletedTask;

    private string Socket => Path.Join(_directory, "daemon.sock");

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(Socket, l => l.Protocols = HttpProtocols.Http1));
        _server = builder.Build();
        _server.MapPost(Procedure, http => _answer(http));
        await _server.StartAsync();
        _channel = ConnectChannel.ForUnixSocket(DaemonEndpoint.ForSocket(Socket));
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Messages_arrive_in_order_and_an_empty_end_of_stream_ends_the_stream()
    {
        byte[]? request = null;
        _answer = async http =>
        {
            request = await ReadAllAsync(http.Request.Body);
            Assert.Equal("application/connect+proto", http.Request.ContentType);
            await StartAsync(http);
            await WriteEnvelopeAsync(http, 0, Output("one"));
            await WriteEnvelopeAsync(http, 0, Output(new string('x', 300_000)));
            await WriteEnvelopeAsync(http, 2, "{}"u8.ToArray());
        };

        using var call = Open();
        Assert.True(await call.MoveNext(CancellationToken.None));
        Assert.Equal("one", call.Current.Stdout.ToStringUtf8());
        Assert.True(await call.MoveNext(CancellationToken.None));
        Assert.Equal(300_000, call.Current.Stdout.Length);
        Assert.False(await call.MoveNext(CancellationToken.None));

        // The request went as one envelope around the message.
        Assert.Equal(0, request![0]);
        Assert.Equal(request.Length - 5, (int)BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(1)));
        Assert.Equal("sbx", CreateExecutionRequest.Parser.ParseFrom(request.AsSpan(5)).SandboxId);
    }

    [Fact]
    public async Task An_error_at_the_end_of_the_stream_is_the_status_and_detail_a_grpc_call_throws()
    {
        _answer = async http =>
        {
            await StartAsync(http);
            await WriteEnvelopeAsync(http, 0, Output("partial"));
            await WriteEnvelopeAsync(http, 2, """{"error":{"code":"not_found","message":"sandbox_not_found: no sandbox 'x'","details":[]}}"""u8.ToArray());
        };

        using var call = Open();
        Assert.True(await call.MoveNext(CancellationToken.None));
        var error = await Assert.ThrowsAsync<RpcException>(() => call.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("sandbox_not_found: no sandbox 'x'", error.Status.Detail);
        Assert.Equal("sandbox_not_found", DaemonErrors.ReasonCode(error));
    }

    [Theory]
    // A daemon without the method: the caller falls back as it does on gRPC's UNIMPLEMENTED.
    [InlineData(404, "", StatusCode.Unimplemented, "the daemon answered HTTP 404")]
    [InlineData(503, "not json", StatusCode.Unavailable, "the daemon answered HTTP 503")]
    [InlineData(400, """{"code":"invalid_argument","message":"invalid_argument: bad id"}""", StatusCode.InvalidArgument, "invalid_argument: bad id")]
    public async Task A_call_refused_with_an_http_status_is_the_matching_status(int httpStatus, string body, StatusCode code, string detail)
    {
        _answer = async http =>
        {
            http.Response.StatusCode = httpStatus;
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(body);
        };

        using var call = Open();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.MoveNext(CancellationToken.None));
        Assert.Equal((code, detail), (error.StatusCode, error.Status.Detail));
    }

    [Fact]
    public async Task A_message_over_the_limit_is_refused_from_its_header_alone()
    {
        _answer = async http =>
        {
            await StartAsync(http);
            var header = new byte[5];
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), ConnectStreamingCall<ExecutionStreamEvent>.MaxMessageBytes + 1);
            await http.Response.Body.WriteAsync(header);
            await http.Response.Body.FlushAsync();

            // The bytes it announces never come: the client must not wait for them.
            await Task.Delay(Timeout.Infinite, http.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        };

        using var call = Open();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains($"{ConnectStreamingCall<ExecutionStreamEvent>.MaxMessageBytes + 1} bytes", error.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("end", StatusCode.Unavailable, "ended without its end-of-stream message")]
    [InlineData("cut", StatusCode.Unavailable, "ended inside a message")]
    [InlineData("compressed", StatusCode.Internal, "compressed message")]
    [InlineData("garbage", StatusCode.Internal, "cannot read")]
    [InlineData("big-end", StatusCode.ResourceExhausted, "at most 65536")]
    [InlineData("not-json-end", StatusCode.Internal, "not JSON")]
    [InlineData("content-type", StatusCode.Internal, "content type application/json")]
    public async Task A_broken_or_hostile_stream_fails_with_a_status_that_says_what_was_wrong(string how, StatusCode code, string says)
    {
        _answer = async http =>
        {
            if (how == "content-type")
            {
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync("{}");
                return;
            }

            await StartAsync(http);
            await WriteEnvelopeAsync(http, 0, Output("first"));
            switch (how)
            {
                case "cut":
                    var header = new byte[5];
                    BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), 1000);
                    await http.Response.Body.WriteAsync(header);
                    await http.Response.Body.WriteAsync(new byte[10]);
                    break;
                case "compressed":
                    await WriteEnvelopeAsync(http, 1, Output("zipped?"));
                    break;
                case "garbage":
                    await WriteEnvelopeAsync(http, 0, [0xff, 0xff, 0xff, 0xff]);
                    break;
                case "big-end":
                    await WriteEnvelopeAsync(http, 2, new byte[ConnectStreamingCall<ExecutionStreamEvent>.MaxEndOfStreamBytes + 1]);
                    break;
                case "not-json-end":
                    await WriteEnvelopeAsync(http, 2, "}{"u8.ToArray());
                    break;
                default:
                    break;
            }
        };

        using var call = Open();
        if (how != "content-type")
        {
            Assert.True(await call.MoveNext(CancellationToken.None));
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => call.MoveNext(CancellationToken.None));
        Assert.Equal(code, error.StatusCode);
        Assert.Contains(says, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_ends_the_call_on_both_sides()
    {
        var aborted = new TaskCompletionSource();
        _answer = async http =>
        {
            http.RequestAborted.Register(() => aborted.TrySetResult());
            await StartAsync(http);
            await WriteEnvelopeAsync(http, 0, Output("first"));
            await Task.Delay(Timeout.Infinite, http.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        };

        using var cancel = new CancellationTokenSource();
        using var call = Open(cancel.Token);
        Assert.True(await call.MoveNext(CancellationToken.None));
        var next = call.MoveNext(CancellationToken.None);
        await cancel.CancelAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => next);
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task No_daemon_on_the_socket_is_unavailable_and_reads_as_unreachable()
    {
        using var channel = ConnectChannel.ForUnixSocket(DaemonEndpoint.ForSocket(Path.Join(_directory, "absent.sock")))!;
        using var call = channel.ServerStream(Procedure, new CreateExecutionRequest(), ExecutionStreamEvent.Parser, CancellationToken.None);
        var error = await Assert.ThrowsAsync<RpcException>(() => call.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("no socket at that path", DaemonErrors.UnreachableReason(error));
    }

    private static byte[] Output(string text) => new ExecutionStreamEvent { Stdout = ByteString.CopyFromUtf8(text) }.ToByteArray();

    private static async Task StartAsync(HttpContext http)
    {
        http.Response.ContentType = "application/connect+proto";
        await http.Response.StartAsync();
    }

    private static async Task WriteEnvelopeAsync(HttpContext http, byte flags, byte[] payload)
    {
        var header = new byte[5];
        header[0] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), (uint)payload.Length);
        await http.Response.Body.WriteAsync(header);
        await http.Response.Body.WriteAsync(payload);
        await http.Response.Body.FlushAsync();
    }

    private static async Task<byte[]> ReadAllAsync(Stream body)
    {
        using var copy = new MemoryStream();
        await body.CopyToAsync(copy);
        return copy.ToArray();
    }

    private ConnectStreamingCall<ExecutionStreamEvent> Open(CancellationToken cancellationToken = default) =>
        _channel!.ServerStream(Procedure, new CreateExecutionRequest { SandboxId = "sbx" }, ExecutionStreamEvent.Parser, cancellationToken);
}
