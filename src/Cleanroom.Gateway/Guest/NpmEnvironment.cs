using Cleanroom.Policy;

namespace Cleanroom.Gateway.Guest;

/// <summary>
/// The variables that send npm (and pnpm and yarn, which read the same or their own spelling) to the gateway's
/// <c>/npm/registry.npmjs.org/</c> route, given only when the policy allows <c>registry.npmjs.org:443</c>: a sandbox
/// that may not reach the registry gets no registry pointed at it.
/// </summary>
public static class NpmEnvironment
{
    /// <summary>The public npm registry, the one host these variables are about.</summary>
    public const string RegistryHost = "registry.npmjs.org";

    /// <summary>
    /// <c>npm_config_registry</c> (npm, pnpm, yarn 1), <c>YARN_NPM_REGISTRY_SERVER</c> (yarn 2 and later) and
    /// <c>YARN_UNSAFE_HTTP_WHITELIST</c> (yarn 2 and later refuse a plain-http registry not listed there), as
    /// <c>KEY=VALUE</c> entries; none when the policy does not allow the registry on 443.
    /// </summary>
    public static IReadOnlyList<string> For(NetworkPolicy policy, bool allowAll, string gatewayBaseUrl)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(gatewayBaseUrl);
        if (!allowAll && !policy.Evaluate(RegistryHost, 443).IsAllowed)
        {
            return [];
        }

        var registry = $"{gatewayBaseUrl.TrimEnd('/')}/npm/{RegistryHost}/";
        return
        [
            $"npm_config_registry={registry}",
            $"YARN_NPM_REGISTRY_SERVER={registry}",
            $"YARN_UNSAFE_HTTP_WHITELIST={new Uri(gatewayBaseUrl).Host}",
        ];
    }
}
