using Grpc.Core;

namespace Cleanroom.Daemon;

/// <summary>
/// An error meant for the API caller: a gRPC status, a stable reason code (snake_case, also the first word of the
/// message so that plain-text clients can match it), and a sentence saying what went wrong.
/// </summary>
public sealed class DaemonException : Exception
{
    public DaemonException(StatusCode status, string reason, string message)
        : base(message)
    {
        Status = status;
        Reason = reason;
    }

    public DaemonException()
    {
    }

    public DaemonException(string message)
        : base(message)
    {
    }

    public DaemonException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StatusCode Status { get; } = StatusCode.Internal;

    public string Reason { get; } = "internal";

    public RpcException ToRpcException() => new(new Status(Status, $"{Reason}: {Message}"));

    public static DaemonException SandboxNotFound(string id) => new(StatusCode.NotFound, "sandbox_not_found", $"unknown sandbox {id}");

    public static DaemonException ExecutionNotFound(string id) => new(StatusCode.NotFound, "execution_not_found", $"unknown execution {id}");

    public static DaemonException InvalidArgument(string message) => new(StatusCode.InvalidArgument, "invalid_argument", message);

    public static DaemonException NotReady(string message) => new(StatusCode.FailedPrecondition, "failed_precondition", message);
}
