using System.Text.Json.Serialization;

namespace Cleanroom.Images.Registry;

/// <summary>
/// The parts of a Docker client config file (<c>~/.docker/config.json</c>) that hold registry credentials; everything
/// else in it (proxies, aliases, plugins) is ignored.
/// </summary>
internal sealed record DockerConfigFile
{
    [JsonPropertyName("auths")]
    public Dictionary<string, DockerConfigAuth>? Auths { get; init; }

    /// <summary>Per-registry credential helpers; read only to say they are not supported.</summary>
    [JsonPropertyName("credHelpers")]
    public Dictionary<string, string>? CredHelpers { get; init; }

    /// <summary>The default credential helper; read only to say it is not supported.</summary>
    [JsonPropertyName("credsStore")]
    public string? CredsStore { get; init; }
}

/// <summary>One <c>auths</c> entry.</summary>
internal sealed record DockerConfigAuth
{
    /// <summary>base64 of <c>user:password</c>.</summary>
    [JsonPropertyName("auth")]
    public string? Auth { get; init; }

    [JsonPropertyName("username")]
    public string? Username { get; init; }

    [JsonPropertyName("password")]
    public string? Password { get; init; }

    [JsonPropertyName("identitytoken")]
    public string? IdentityToken { get; init; }
}
