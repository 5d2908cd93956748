namespace Cleanroom.Images.Registry;

/// <summary>
/// What we can present to one registry: a user name and password (or access token used as a password), and/or an
/// OAuth2 refresh token (<c>identitytoken</c> in a Docker config) that a token endpoint exchanges for access.
/// </summary>
public sealed record RegistryCredential(string? Username, string? Password, string? IdentityToken = null)
{
    /// <summary>True when there is a user name and password to send as HTTP Basic.</summary>
    public bool HasBasic => !string.IsNullOrEmpty(Username) && Password is not null;

    /// <inheritdoc/>
    /// <remarks>Never prints the secrets: records print themselves into logs and exception messages too easily.</remarks>
    public override string ToString() => $"RegistryCredential {{ Username = {Username}, Password = {(Password is null ? "null" : "***")}, IdentityToken = {(IdentityToken is null ? "null" : "***")} }}";
}
