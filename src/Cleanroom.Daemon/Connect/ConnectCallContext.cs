using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Cleanroom.Daemon.Connect;

/// <summary>
/// The <see cref="ServerCallContext"/> a service sees when called over Connect: the method, the deadline from
/// <c>Connect-Timeout-Ms</c>, a token cancelled by the deadline or the client going away, and the request's headers.
/// </summary>
internal sealed class ConnectCallContext(HttpContext http, ConnectMethod method, DateTime deadline, CancellationToken cancellationToken) : ServerCallContext
{
    private Metadata? _requestHeaders;

    /// <summary>The HTTP request this call came in (where it came from, for <see cref="Services.CallOrigin"/>).</summary>
    public HttpContext Http => http;

    protected override string MethodCore => method.Path;

    protected override string HostCore => http.Request.Host.Value ?? "";

    protected override string PeerCore => http.Connection.RemoteIpAddress?.ToString() ?? "unix";

    protected override DateTime DeadlineCore => deadline;

    protected override Metadata RequestHeadersCore => _requestHeaders ??= Headers(http.Request.Headers);

    protected override CancellationToken CancellationTokenCore => cancellationToken;

    protected override Metadata ResponseTrailersCore { get; } = [];

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore { get; } = new(null, new Dictionary<string, List<AuthProperty>>());

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("calls made over Connect do not propagate to other calls");

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders)
    {
        foreach (var entry in responseHeaders)
        {
            if (!entry.IsBinary)
            {
                http.Response.Headers.Append(entry.Key, entry.Value);
            }
        }

        return Task.CompletedTask;
    }

    // gRPC metadata allows fewer names than HTTP: a header it cannot carry is left out rather than failing the call.
    private static Metadata Headers(IHeaderDictionary headers)
    {
        var metadata = new Metadata();
        foreach (var (key, values) in headers)
        {
            var name = key.ToLowerInvariant();
            if (name.EndsWith("-bin", StringComparison.Ordinal) || !name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.'))
            {
                continue;
            }

            foreach (var value in values)
            {
                metadata.Add(name, value ?? "");
            }
        }

        return metadata;
    }
}
