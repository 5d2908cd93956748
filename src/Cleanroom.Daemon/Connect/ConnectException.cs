using Grpc.Core;

namespace Cleanroom.Daemon.Connect;

/// <summary>
/// A Connect call that fails before or outside the service (bad content type, malformed body, unknown procedure), or a
/// service's failure translated from its gRPC status: the code, the sentence the client reads and the reason code.
/// </summary>
internal sealed class ConnectException : Exception
{
    public ConnectException(StatusCode code, ReasonCode reason, string message)
        : base(message)
    {
        Code = code;
        Reason = reason;
    }

    public ConnectException()
    {
    }

    public ConnectException(string message)
        : base(message)
    {
    }

    public ConnectException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StatusCode Code { get; } = StatusCode.Internal;

    public ReasonCode Reason { get; } = ReasonCode.Internal;

    /// <summary>
    /// The HTTP status for a unary error, or for a request refused before its call starts (e.g. 415 for a content
    /// type no protocol on this path speaks). Null means "the code's own status".
    /// </summary>
    public int? HttpStatus { get; init; }

    public static ConnectException InvalidArgument(string message) => new(StatusCode.InvalidArgument, ReasonCode.InvalidArgument, message);
}
