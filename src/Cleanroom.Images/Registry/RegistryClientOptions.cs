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

    /// <summary>
    /// Where a registry's API really is, by registry name (any spelling <see cref="RegistryCredentialStore"/> accepts):
    /// requests for that registry go to the base URL given instead of <c>https://host/</c>, while credentials are still
    /// the registry's own. For internal mirrors, and for tests whose upstream runs on loopback.
    /// </summary>
    public IReadOnlyDictionary<string, Uri> BaseUris { get; init; } = new Dictionary<string, Uri>(StringComparer.Ordinal);

    /// <summary>
    /// Called with the absolute target before the client follows a redirect (blob storage on a CDN, say). It refuses
    /// by throwing; that exception reaches the caller unchanged and is not retried. Null follows every http(s)
    /// redirect. The host gateway uses it to hold redirects to the requesting sandbox's network policy.
    /// </summary>
    public Action<Uri>? CheckRedirect { get; init; }

    /// <summary>
    /// Called with the token service a registry's Bearer challenge names (its realm) before the client asks it for a
    /// token. The registry chooses that URL, so without a check a registry could make the client send requests to any
    /// address it can reach. It refuses by throwing, like <see cref="CheckRedirect"/>. Null asks any http(s) realm.
    /// The host gateway holds realms to the requesting sandbox's network policy.
    /// </summary>
    public Action<Uri>? CheckTokenRealm { get; init; }
}
