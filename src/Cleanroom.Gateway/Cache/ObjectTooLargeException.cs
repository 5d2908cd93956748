namespace Cleanroom.Gateway.Cache;

/// <summary>
/// Content passed the per-object size bound while it was streamed in; nothing was stored. Raised as soon as the bound
/// is crossed, so an endless upstream body costs at most the bound in disk space.
/// </summary>
public sealed class ObjectTooLargeException : IOException
{
    /// <summary>Creates the exception for an object that passed <paramref name="maxBytes"/>.</summary>
    public ObjectTooLargeException(long maxBytes)
        : base($"the object is larger than the cache's per-object bound of {maxBytes} bytes; nothing was stored")
    {
        MaxBytes = maxBytes;
    }

    /// <summary>The bound that was passed.</summary>
    public long MaxBytes { get; }
}
