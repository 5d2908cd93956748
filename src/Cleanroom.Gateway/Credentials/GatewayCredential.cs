namespace Cleanroom.Gateway.Credentials;

/// <summary>
/// One upstream host's credential from the credentials file: the Authorization header the gateway adds to requests
/// for that host (and no other), and the cache scope objects fetched with it are stored under.
/// </summary>
public sealed class GatewayCredential
{
    internal GatewayCredential(string host, string authorization, string scope)
    {
        Host = host;
        Authorization = authorization;
        Scope = scope;
    }

    /// <summary>The normalised host name it belongs to.</summary>
    public string Host { get; }

    /// <summary>The Authorization header value (<c>Bearer …</c> or <c>Basic …</c>). Secret: never log it.</summary>
    internal string Authorization { get; }

    /// <summary>
    /// The cache scope: <c>cred-</c> and the first 16 hex digits of SHA-256(host, secret). Objects fetched with this
    /// credential are only served to requests that would have sent the same one.
    /// </summary>
    public string Scope { get; }

    /// <summary>Names the host only: the secret never reaches a log through this.</summary>
    public override string ToString() => $"credential for {Host}";
}
