using System.Text.Json.Serialization;

namespace Cleanroom.Images.Registry;

/// <summary>A token endpoint's answer (Docker token spec; <c>access_token</c> is the OAuth2 spelling of <c>token</c>).</summary>
internal sealed record TokenResponse
{
    [JsonPropertyName("token")]
    public string? Token { get; init; }

    [JsonPropertyName("access_token")]
    public string? AccessToken { get; init; }

    /// <summary>Lifetime in seconds; the spec says to assume 60 when absent.</summary>
    [JsonPropertyName("expires_in")]
    public int? ExpiresIn { get; init; }
}
