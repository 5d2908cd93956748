using Grpc.Core;

namespace Cleanroom.Daemon.Connect;

/// <summary>Bounds shared by every protocol of the control API.</summary>
internal static class ControlApiLimits
{
    /// <summary>
    /// The largest request message, for gRPC, gRPC-Web and Connect alike (image import chunks are 1 MiB); for a
    /// compressed Connect request, both its compressed and its inflated size.
    /// </summary>
    public const int MaxMessageBytes = 4 * 1024 * 1024;

    /// <summary>
    /// The default largest response message (<see cref="DaemonOptions.MaxResponseMessageBytes"/>), for every protocol:
    /// room for a 16 MiB <c>DownloadSandboxFile</c> in base64 JSON. A larger response is not sent; the call fails
    /// with <c>resource_exhausted</c>.
    /// </summary>
    public const int DefaultMaxResponseMessageBytes = 32 * 1024 * 1024;

    /// <summary>Connect responses (and stream messages) this size or larger are gzipped when the client accepts gzip.</summary>
    public const int CompressMinBytes = 1024;

    /// <summary>The error of a response over the limit, as the service's own errors read (reason first).</summary>
    public static RpcException ResponseTooLarge(string method, long bytes, int limit, string codec) =>
        new(new Status(StatusCode.ResourceExhausted, $"resource_limit_exceeded: the {method} response is {bytes} bytes in {codec}, over the daemon's limit of {limit} bytes for one response message; it was not sent"));
}
