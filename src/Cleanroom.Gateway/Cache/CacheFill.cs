namespace Cleanroom.Gateway.Cache;

/// <summary>
/// What an upstream fetch hands the cache: the body to store and what to record beside it. The cache reads the body
/// to the end and disposes it.
/// </summary>
/// <param name="content">The body.</param>
/// <param name="options">Content type, ETag, TTL, status, expected digest.</param>
public sealed class CacheFill(Stream content, CacheEntryOptions options) : IAsyncDisposable
{
    /// <summary>The body.</summary>
    public Stream Content { get; } = content ?? throw new ArgumentNullException(nameof(content));

    /// <summary>What to record beside it.</summary>
    public CacheEntryOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>Disposes the body.</summary>
    public ValueTask DisposeAsync() => Content.DisposeAsync();
}
