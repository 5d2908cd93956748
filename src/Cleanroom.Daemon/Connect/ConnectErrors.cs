using System.Text.Json;
using Cleanroom.Api.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Cleanroom.Daemon.Connect;

/// <summary>
/// The Connect protocol's error vocabulary: code names, their HTTP statuses, and the JSON error object
/// (<c>{"code", "message", "details"}</c>) with the reason code as a <c>cleanroom.v1.ErrorReason</c> detail.
/// </summary>
internal static class ConnectErrors
{
    /// <summary>The detail type name clients look for (the fully qualified protobuf name of <see cref="ErrorReason"/>).</summary>
    public static string ReasonDetailType => ErrorReason.Descriptor.FullName;

    /// <summary>Connect's name of a gRPC status code (the same codes, snake_case; "canceled" has one l).</summary>
    public static string CodeName(StatusCode code) => code switch
    {
        StatusCode.Cancelled => "canceled",
        StatusCode.InvalidArgument => "invalid_argument",
        StatusCode.DeadlineExceeded => "deadline_exceeded",
        StatusCode.NotFound => "not_found",
        StatusCode.AlreadyExists => "already_exists",
        StatusCode.PermissionDenied => "permission_denied",
        StatusCode.ResourceExhausted => "resource_exhausted",
        StatusCode.FailedPrecondition => "failed_precondition",
        StatusCode.Aborted => "aborted",
        StatusCode.OutOfRange => "out_of_range",
        StatusCode.Unimplemented => "unimplemented",
        StatusCode.Internal => "internal",
        StatusCode.Unavailable => "unavailable",
        StatusCode.DataLoss => "data_loss",
        StatusCode.Unauthenticated => "unauthenticated",
        _ => "unknown",
    };

    /// <summary>The HTTP status the Connect protocol gives a unary error of this code.</summary>
    public static int HttpStatus(StatusCode code) => code switch
    {
        StatusCode.Cancelled => 499,
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange => 400,
        StatusCode.DeadlineExceeded => 504,
        StatusCode.NotFound => 404,
        StatusCode.AlreadyExists or StatusCode.Aborted => 409,
        StatusCode.PermissionDenied => 403,
        StatusCode.ResourceExhausted => 429,
        StatusCode.Unimplemented => 501,
        StatusCode.Unavailable => 503,
        StatusCode.Unauthenticated => 401,
        _ => 500,
    };

    /// <summary>
    /// A service's failure as the interceptors left it. The status message keeps its text unchanged (so it reads the
    /// same over every protocol); its first word, when it is a reason code, also becomes the detail.
    /// </summary>
    public static ConnectException FromRpc(RpcException rpc)
    {
        var detail = rpc.Status.Detail ?? "";
        var colon = detail.IndexOf(": ", StringComparison.Ordinal);
        var reason = colon > 0 && ReasonCodeNames.TryParse(detail[..colon], out var parsed) ? parsed : DefaultReason(rpc.StatusCode);
        return new ConnectException(rpc.StatusCode, reason, detail);
    }

    /// <summary>The Connect error JSON object, written where the writer stands (a unary body or an end-of-stream's "error").</summary>
    public static void Write(Utf8JsonWriter json, ConnectException error)
    {
        var reason = error.Reason.ToSnakeCase();
        json.WriteStartObject();
        json.WriteString("code", CodeName(error.Code));
        json.WriteString("message", error.Message);
        json.WriteStartArray("details");
        json.WriteStartObject();
        json.WriteString("type", ReasonDetailType);
        // Standard base64 without padding, as the protocol writes binary detail values.
        json.WriteString("value", Convert.ToBase64String(new ErrorReason { Reason = reason }.ToByteArray()).TrimEnd('='));
        json.WriteStartObject("debug");
        json.WriteString("reason", reason);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>The error as a unary response body.</summary>
    public static byte[] ToJson(ConnectException error)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            Write(json, error);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static ReasonCode DefaultReason(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument => ReasonCode.InvalidArgument,
        StatusCode.FailedPrecondition => ReasonCode.FailedPrecondition,
        StatusCode.ResourceExhausted => ReasonCode.ResourceLimitExceeded,
        StatusCode.Unimplemented => ReasonCode.RouteNotImplemented,
        StatusCode.Internal or StatusCode.Unknown or StatusCode.DataLoss => ReasonCode.Internal,
        _ => ReasonCode.Unspecified,
    };
}
