namespace Cleanroom.TestSupport;

/// <summary>
/// How a test <see cref="RegistryServer"/> guards its content. <see cref="Token"/> is docker-registry's
/// <c>auth.token</c>: the registry sends clients to a <see cref="TokenServer"/>, which checks this user name and
/// password (HTTP Basic, or the password as an OAuth2 refresh token) and issues signed JWTs.
/// </summary>
public sealed record RegistryAuth(string Username, string Password)
{
    public static RegistryAuth Token(string username, string password) => new(username, password);
}
