using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon.Services;

/// <summary>
/// Turns <see cref="DaemonException"/> into its gRPC status, and anything unexpected into INTERNAL with the message
/// (logged with its stack), so a client always gets one clear line instead of a bare "Unknown".
/// </summary>
internal sealed class ErrorInterceptor(ILogger<ErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (Translate(ex, context) is { } rpc)
        {
            throw rpc;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (Translate(ex, context) is { } rpc)
        {
            throw rpc;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception ex) when (Translate(ex, context) is { } rpc)
        {
            throw rpc;
        }
    }

    private RpcException? Translate(Exception ex, ServerCallContext context)
    {
        switch (ex)
        {
            case RpcException:
                return null;
            case DaemonException daemon:
                return daemon.ToRpcException();
            case Exception when ImageErrors.Translate(ex) is { } image:
                return image.ToRpcException();
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Status(StatusCode.Cancelled, "the request was cancelled"));
            default:
                logger.LogError(ex, "{Method} failed", context.Method);
                return new RpcException(new Status(StatusCode.Internal, "internal: " + ex.Message));
        }
    }
}
