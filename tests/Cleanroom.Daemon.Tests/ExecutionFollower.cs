using System.Text;
using Cleanroom.Api.V1;
using Cleanroom.Client;
using Cleanroom.Daemon.Tests.Fakes;
using Google.Protobuf;
using Grpc.Core;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// One client following an execution with StreamExecution, checking its stdout against the scripted guest's
/// <c>pattern</c> as it arrives (never keeping it: the tests that run many of these measure the heap).
/// </summary>
internal abstract class ExecutionFollower : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>Stdout bytes received so far, all of them checked against the pattern.</summary>
    public long Received { get; private set; }

    protected CancellationToken Token => _cancel.Token;

    /// <summary>Reads until at least <paramref name="bytes"/> of stdout have come.</summary>
    public async Task ReadOutputAsync(long bytes)
    {
        while (Received < bytes)
        {
            var next = await NextAsync() ?? throw new InvalidOperationException($"the stream ended after {Received} of {bytes} bytes");
            Accept(next);
        }
    }

    /// <summary>Reads the rest: the output, then the exit, then the end of the stream.</summary>
    public async Task<ExecutionExit> ReadToExitAsync()
    {
        while (true)
        {
            var next = await NextAsync() ?? throw new InvalidOperationException($"the stream ended after {Received} bytes without an exit");
            if (next.Exit is { } exit)
            {
                Assert.Null(await NextAsync()); // the exit is the last message
                return exit;
            }

            Accept(next);
        }
    }

    /// <summary>Goes away mid-stream, as a client that is killed or loses interest does.</summary>
    public void Disconnect()
    {
        _cancel.Cancel();
        Dispose();
    }

    public void Dispose()
    {
        Close();
        _cancel.Dispose();
    }

    /// <summary>The next message, or null once the stream ended without an error.</summary>
    protected abstract Task<ExecutionStreamEvent?> NextAsync();

    protected abstract void Close();

    private void Accept(ExecutionStreamEvent message)
    {
        Assert.True(message.Stderr.IsEmpty, "stderr from a command that writes none");
        var span = message.Stdout.Span;
        for (var i = 0; i < span.Length; i++)
        {
            if (span[i] != ScriptedGuest.PatternByte(Received + i))
            {
                Assert.Fail($"byte {Received + i} of the output is {span[i]}, not {ScriptedGuest.PatternByte(Received + i)}: out of order or corrupt");
            }
        }

        Received += span.Length;
    }

    /// <summary>A gRPC client over HTTP/2 (the SDK's and the CLI's protocol).</summary>
    public sealed class OverGrpc(DaemonConnection daemon, StreamExecutionRequest request) : ExecutionFollower
    {
        private AsyncServerStreamingCall<ExecutionStreamEvent>? _call;

        protected override async Task<ExecutionStreamEvent?> NextAsync()
        {
            _call ??= daemon.Executions.StreamExecution(request, cancellationToken: Token);
            return await _call.ResponseStream.MoveNext(Token).WaitAsync(Waits.Bound) ? _call.ResponseStream.Current : null;
        }

        protected override void Close() => _call?.Dispose();
    }

    /// <summary>A Connect client speaking application/connect+proto over HTTP/1.1 (as curl and browsers can).</summary>
    public sealed class OverConnect(HttpClient http, StreamExecutionRequest request) : ExecutionFollower
    {
        private HttpResponseMessage? _response;
        private Stream? _body;

        protected override async Task<ExecutionStreamEvent?> NextAsync()
        {
            if (_body is null)
            {
                var post = ConnectWire.Post("/cleanroom.v1.ExecutionService/StreamExecution", "application/connect+proto", ConnectWire.Envelope(0, request.ToByteArray()));
                _response = await http.SendAsync(post, HttpCompletionOption.ResponseHeadersRead, Token).WaitAsync(Waits.Bound);
                Assert.Equal(System.Net.HttpStatusCode.OK, _response.StatusCode);
                _body = await _response.Content.ReadAsStreamAsync(Token);
            }

            var (flags, data) = await ConnectWire.ReadFrameAsync(_body) ?? throw new InvalidOperationException("the Connect stream ended without its end-of-stream frame");
            if (flags == 0)
            {
                return ExecutionStreamEvent.Parser.ParseFrom(data);
            }

            Assert.Equal("{}", Encoding.UTF8.GetString(data)); // the end of the stream, without an error
            return null;
        }

        protected override void Close()
        {
            _body?.Dispose();
            _response?.Dispose();
        }
    }
}
