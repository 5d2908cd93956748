using System.Text.Json;
using Grpc.Core;

namespace Cleanroom.Client.Connect;

/// <summary>
/// Connect's error JSON (<c>{"code": "not_found", "message": "..."}</c>) as the <see cref="RpcException"/> a gRPC
/// call fails with: the same status code and the message as its detail, which carries the daemon's reason code first.
/// </summary>
internal static class ConnectErrorBody
{
    /// <summary>An end-of-stream message: <c>{}</c> after success, <c>{"error": {...}}</c> after a failure.</summary>
    public static void ThrowIfError(ReadOnlyMemory<byte> endOfStream)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(endOfStream);
        }
        catch (JsonException ex)
        {
            throw new RpcException(new Status(StatusCode.Internal, "the daemon's end-of-stream message is not JSON: " + ex.Message));
        }

        using (document)
        {
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error))
            {
                throw ToException(error, StatusCode.Unknown);
            }
        }
    }

    /// <summary>A call the daemon refused with an HTTP error status before it started; the body may be Connect's error JSON.</summary>
    public static RpcException FromHttpFailure(int httpStatus, byte[] body)
    {
        var fallback = FromHttpStatus(httpStatus);
        try
        {
            using var document = JsonDocument.Parse(body);
            return ToException(document.RootElement, fallback);
        }
        catch (JsonException)
        {
            return new RpcException(new Status(fallback, $"the daemon answered HTTP {httpStatus}"));
        }
    }

    private static RpcException ToException(JsonElement error, StatusCode fallback)
    {
        var code = fallback;
        var message = "";
        if (error.ValueKind == JsonValueKind.Object)
        {
            if (error.TryGetProperty("code", out var name) && name.ValueKind == JsonValueKind.String)
            {
                code = FromName(name.GetString()!) ?? fallback;
            }

            if (error.TryGetProperty("message", out var text) && text.ValueKind == JsonValueKind.String)
            {
                message = text.GetString()!;
            }
        }

        return new RpcException(new Status(code, message));
    }

    /// <summary>Connect's code names are gRPC's in snake case ("canceled" with one l).</summary>
    private static StatusCode? FromName(string name) => name switch
    {
        "canceled" => StatusCode.Cancelled,
        "unknown" => StatusCode.Unknown,
        "invalid_argument" => StatusCode.InvalidArgument,
        "deadline_exceeded" => StatusCode.DeadlineExceeded,
        "not_found" => StatusCode.NotFound,
        "already_exists" => StatusCode.AlreadyExists,
        "permission_denied" => StatusCode.PermissionDenied,
        "resource_exhausted" => StatusCode.ResourceExhausted,
        "failed_precondition" => StatusCode.FailedPrecondition,
        "aborted" => StatusCode.Aborted,
        "out_of_range" => StatusCode.OutOfRange,
        "unimplemented" => StatusCode.Unimplemented,
        "internal" => StatusCode.Internal,
        "unavailable" => StatusCode.Unavailable,
        "data_loss" => StatusCode.DataLoss,
        "unauthenticated" => StatusCode.Unauthenticated,
        _ => null,
    };

    /// <summary>The protocol's mapping of an HTTP status without a usable body.</summary>
    private static StatusCode FromHttpStatus(int status) => status switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };
}
