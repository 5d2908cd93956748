namespace Cleanroom.Images.Registry;

/// <summary>
/// A failure worth another try: the connection broke, the registry answered 5xx or 429, a body stalled or ended
/// early. Only <see cref="RetryPolicy"/> sees these; after the last try it becomes an
/// <see cref="RegistryErrorKind.Unavailable"/> <see cref="RegistryException"/>.
/// </summary>
internal sealed class TransientRegistryFailure : Exception
{
    public TransientRegistryFailure()
    {
    }

    public TransientRegistryFailure(string message)
        : base(message)
    {
    }

    public TransientRegistryFailure(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public TransientRegistryFailure(string message, TimeSpan? retryAfter, Exception? innerException = null)
        : base(message, innerException)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>How long the registry asked us to wait (<c>Retry-After</c>), when it said.</summary>
    public TimeSpan? RetryAfter { get; }
}
