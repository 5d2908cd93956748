using Grpc.Core;

namespace Cleanroom.Client;

/// <summary>
/// What a call ends with when its own cancellation token fired. Grpc.Net.Client usually throws
/// <see cref="StatusCode.Cancelled"/>, but when the cancellation resets the HTTP/2 stream while a message is being
/// read it can surface as an <see cref="RpcException"/> with another status whose cause is the aborted read
/// ("Error reading next message. IOException: The request was aborted."), or as that exception itself. Callers ask
/// this only after checking that the token was cancelled, so a Ctrl-C is reported as an interruption instead of as
/// the transport's error.
/// </summary>
public static class CallCancellation
{
    /// <summary>Whether <paramref name="exception"/> is how a cancelled call ends.</summary>
    public static bool IsCancellation(Exception exception) => exception switch
    {
        OperationCanceledException => true,
        RpcException { StatusCode: StatusCode.Cancelled } => true,
        RpcException rpc => rpc.Status.DebugException is IOException or OperationCanceledException,
        IOException => true,
        _ => false,
    };
}
