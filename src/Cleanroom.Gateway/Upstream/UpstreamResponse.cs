namespace Cleanroom.Gateway.Upstream;

/// <summary>An upstream answer after redirects: status, checked content type, and its bounded body (dispose it).</summary>
internal sealed class UpstreamResponse(int status, string contentType, long? contentLength, Stream body, IReadOnlyList<string>? hops = null)
    : IAsyncDisposable
{
    /// <summary>
    /// The <c>host:port</c> of every hop that a redirect led to (empty without redirects), for checking a stored
    /// answer against the policy of whoever it is served to later.
    /// </summary>
    public IReadOnlyList<string> RedirectHops { get; } = hops ?? [];

    public int Status { get; } = status;

    /// <summary>The Content-Type if it is short and printable, else empty.</summary>
    public string ContentType { get; } = contentType;

    public long? ContentLength { get; } = contentLength;

    /// <summary>The body, bounded in bytes and time.</summary>
    public Stream Body { get; } = body;

    /// <summary>Reads at most <paramref name="max"/> bytes of the body (for passing an error answer on).</summary>
    public async Task<byte[]> ReadPrefixAsync(int max, CancellationToken cancellationToken)
    {
        var buffer = new byte[max];
        var total = 0;
        while (total < max)
        {
            var n = await Body.ReadAsync(buffer.AsMemory(total), cancellationToken);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return buffer[..total];
    }

    public ValueTask DisposeAsync() => Body.DisposeAsync();
}
