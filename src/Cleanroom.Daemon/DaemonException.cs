using Grpc.Core;

namespace Cleanroom.Daemon;

/// <summary>
/// An error meant for the API caller: a gRPC status, a stable <see cref="ReasonCode"/> (its snake_case name is the first
/// word of the status detail, so plain-text clients can match it), and a sentence saying what went wrong.
/// </summary>
public sealed class DaemonException : Exception
{
    public DaemonException(StatusCode status, ReasonCode reason, string message)
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

    public ReasonCode Reason { get; } = ReasonCode.Internal;

    public RpcException ToRpcException() => new(new Status(Status, $"{Reason.ToSnakeCase()}: {Message}"));

    public static DaemonException SandboxNotFound(string id) => new(StatusCode.NotFound, ReasonCode.SandboxNotFound, $"unknown sandbox {Ids.Describe(id)}");

    public static DaemonException ExecutionNotFound(string id) => new(StatusCode.NotFound, ReasonCode.ExecutionNotFound, $"unknown execution {Ids.Describe(id)}");

    /// <summary>The execution exists, but in another sandbox than the caller named.</summary>
    public static DaemonException ExecutionNotFound(string id, string sandboxId) =>
        new(StatusCode.NotFound, ReasonCode.ExecutionNotFound, $"unknown execution {Ids.Describe(id)} in sandbox {Ids.Describe(sandboxId)}");

    public static DaemonException InvalidArgument(string message) => new(StatusCode.InvalidArgument, ReasonCode.InvalidArgument, message);

    /// <summary>The daemon is stopping: the call is worth repeating against the next daemon.</summary>
    public static DaemonException Stopping(string message) => new(StatusCode.Unavailable, ReasonCode.BackendUnavailable, message);

    public static DaemonException NotReady(string message) => new(StatusCode.FailedPrecondition, ReasonCode.FailedPrecondition, message);
}
