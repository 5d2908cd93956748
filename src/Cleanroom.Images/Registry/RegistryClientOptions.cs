namespace Cleanroom.Images.Registry;

/// <summary>How a <see cref="RegistryClient"/> reaches registries and how patient it is with them.</summary>
public sealed record RegistryClientOptions
{
    /// <summary>
    /// Registries (<c>host[:port]</c>) spoken to over plain http. Loopback registries (<c>localhost</c>,
    /// <c>127.0.0.0/8</c>, <c>[::1]</c>, any port) are always plain http; everything else is https.
    /// </summary>
    public IReadOnlyList<string> PlainHttpRegistries { get; init; } = [];

    /// <summary>Credentials by registry; by default those in the Docker config file, when there is one.</summary>
    public RegistryCredentialStore Credentials { get; init; } = RegistryCredentialStore.FromDockerConfig();

    /// <summary>Tries per request (or per download) before a transient failure becomes <see cref="RegistryErrorKind.Unavailable"/>.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>The wait before the first retry; it doubles with each further one.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long to wait for a response's headers, and for each further piece of its body.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public string UserAgent { get; init; } = "cleanroom/0.1";
}
