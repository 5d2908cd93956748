using System.Text.Json;

namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>
/// What the OCI route sends back: a status, the distribution headers and a body, or a refusal with its reason code.
/// The HTTP glue writes <see cref="Status"/>, <c>Content-Type</c>, <c>Docker-Content-Digest</c>,
/// <c>Content-Length</c> and <c>X-Cleanroom-Reason-Code</c> from it, streams <see cref="Body"/> to the end (a
/// cached blob's body verifies as it is read and throws at its end when the file rotted: the response must then be
/// aborted, not completed) and disposes the answer.
/// </summary>
public sealed class OciAnswer : IAsyncDisposable, IDisposable
{
    /// <summary>The HTTP status.</summary>
    public required int Status { get; init; }

    /// <summary>The <c>X-Cleanroom-Reason-Code</c> (see <see cref="OciReasons"/>) for a refusal or failure; null on success and for a plain 404.</summary>
    public string? Reason { get; init; }

    /// <summary>For a failure, the distribution spec's error code (<see cref="OciErrorCodes"/>) for the error body.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>For a failure, what went wrong; upstream text in it is already escaped.</summary>
    public string Message { get; init; } = "";

    /// <summary>The body's media type: the manifest's own for a manifest, <c>application/octet-stream</c> for a blob.</summary>
    public string? ContentType { get; init; }

    /// <summary>The <c>Docker-Content-Digest</c>: the digest of the manifest or blob served.</summary>
    public string? DockerContentDigest { get; init; }

    /// <summary>The body's length in bytes (also for HEAD, which has no body).</summary>
    public long? Length { get; init; }

    /// <summary>The body to stream, or null (HEAD, failures: write <see cref="ErrorBody"/> for those).</summary>
    public Stream? Body { get; init; }

    /// <summary>Where a successful answer came from; null for refusals and failures.</summary>
    public OciCacheResult? Cache { get; init; }

    /// <summary>For a stale answer, why the upstream could not refresh it (escaped), for a <c>Warning</c> header or the log.</summary>
    public string? StaleBecause { get; init; }

    /// <summary>True for a 2xx answer.</summary>
    public bool IsSuccess => Status is >= 200 and < 300;

    /// <summary>The spec's error body, <c>{"errors":[{"code":...,"message":...}]}</c>, for a failure; empty for success.</summary>
    public byte[] ErrorBody()
    {
        if (IsSuccess || ErrorCode is null)
        {
            return [];
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("errors");
            json.WriteStartObject();
            json.WriteString("code", ErrorCode);
            json.WriteString("message", Message);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Releases the body.</summary>
    public ValueTask DisposeAsync() => Body?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>Releases the body.</summary>
    public void Dispose() => Body?.Dispose();

    internal static OciAnswer Refused(int status, string? reason, string errorCode, string message) =>
        new() { Status = status, Reason = reason, ErrorCode = errorCode, Message = message };
}
