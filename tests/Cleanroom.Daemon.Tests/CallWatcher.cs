using System.Threading.Channels;
using Cleanroom.Daemon.Tests.Fakes;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Cleanroom.Daemon.Tests;

/// <summary>An interceptor that reports each call's end: which method, and whether its token was cancelled by then.</summary>
internal sealed class CallWatcher : Interceptor
{
    private readonly Channel<EndedCall> _ended = Channel.CreateUnbounded<EndedCall>();

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        finally
        {
            _ended.Writer.TryWrite(new EndedCall(context.Method, context.CancellationToken.IsCancellationRequested));
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        finally
        {
            _ended.Writer.TryWrite(new EndedCall(context.Method, context.CancellationToken.IsCancellationRequested));
        }
    }

    /// <summary>The next call to end, within the test bound.</summary>
    public Task<EndedCall> NextEndedAsync() => _ended.Reader.ReadAsync().AsTask().WaitAsync(Waits.Bound);

    internal sealed record EndedCall(string Method, bool Cancelled);
}
