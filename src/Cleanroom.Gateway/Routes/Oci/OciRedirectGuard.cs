using Cleanroom.Gateway.Server;

namespace Cleanroom.Gateway.Routes.Oci;

/// <summary>
/// Holds the registry client's redirects (blob storage on a CDN) to the policy of the sandbox whose request started
/// the fetch. The registry client is shared by all sandboxes (one token cache), so the sandbox travels with the
/// fetch in an <see cref="AsyncLocal{T}"/> that each fetch sets for itself; a redirect outside any fetch is refused.
/// </summary>
internal static class OciRedirectGuard
{
    private static readonly AsyncLocal<Scope?> Current = new();

    /// <summary>Marks the rest of the calling async method (and what it awaits) as a fetch for <paramref name="client"/> from <paramref name="registryBase"/>.</summary>
    public static void Enter(GatewayClient client, Uri registryBase) => Current.Value = new Scope(client, registryBase);

    /// <summary>The registry client's redirect hook: returns when the target is allowed, throws <see cref="OciRedirectRefusedException"/> when not.</summary>
    public static void Check(Uri target)
    {
        var scope = Current.Value;
        if (scope is not null && Uri.Compare(target, scope.RegistryBase, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
        {
            // Back to the registry itself (its own base URL, which the policy was checked for by name).
            return;
        }

        var host = target.IdnHost;
        var port = target.Port;
        if (scope is null || !(scope.Client.AllowAll || scope.Client.Policy.Evaluate(host, port).IsAllowed))
        {
            throw new OciRedirectRefusedException(host, port);
        }
    }

    /// <summary>
    /// The registry client's token-realm hook: the token service a registry names must be a host the sandbox may reach,
    /// as a redirect target must. Throws <see cref="OciRedirectRefusedException"/> when it is not.
    /// </summary>
    public static void CheckRealm(Uri realm)
    {
        var scope = Current.Value;
        if (scope is null || !(scope.Client.AllowAll || scope.Client.Policy.Evaluate(realm.IdnHost, realm.Port).IsAllowed))
        {
            throw new OciRedirectRefusedException(
                $"the registry's token service {realm.IdnHost}:{realm.Port} is not allowed by the sandbox's network policy",
                realm.IdnHost,
                realm.Port);
        }
    }

    private sealed record Scope(GatewayClient Client, Uri RegistryBase);
}
