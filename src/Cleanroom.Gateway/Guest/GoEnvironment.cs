using Cleanroom.Policy;

namespace Cleanroom.Gateway.Guest;

/// <summary>
/// The go command's variables for a sandbox whose policy allows the public module proxy: <c>GOPROXY</c> names the
/// gateway's <c>/goproxy/proxy.golang.org</c> route and nothing after it. A GOPROXY list with one entry never falls
/// back to <c>direct</c> (which would fetch from version control hosts the firewall blocks anyway), and leaving out
/// <c>,off</c> keeps go's error about a missing module the proxy's own 404 rather than "disabled by GOPROXY=off".
/// <c>GOSUMDB</c> is left alone: go then asks the gateway whether it proxies <c>sum.golang.org</c>, which it does
/// when the policy allows that host too, and otherwise refuses with 403 <c>host_not_allowed</c>, so go stops with that
/// message instead of installing modules unverified. Pure: the same policy always gives the same variables.
/// </summary>
public static class GoEnvironment
{
    /// <summary>The public Go module proxy, the host the gateway route forwards to.</summary>
    public const string ProxyHost = "proxy.golang.org";

    /// <summary>
    /// The <c>KEY=VALUE</c> entries for a sandbox with <paramref name="policy"/>: none unless the policy allows the
    /// proxy on 443 or the sandbox is allow-all. An allow-all sandbox reaches the internet directly, so its GOPROXY
    /// ends in <c>,direct</c>: modules the public proxy does not have (private ones) are still fetched from their
    /// version control hosts, as go does by default, while public ones come through the gateway's cache.
    /// </summary>
    public static IReadOnlyList<string> For(NetworkPolicy policy, bool allowAll)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (allowAll)
        {
            return [$"GOPROXY={GatewayEnvironment.BaseUrl}/goproxy/{ProxyHost},direct"];
        }

        return policy.Evaluate(ProxyHost, 443).IsAllowed ? [$"GOPROXY={GatewayEnvironment.BaseUrl}/goproxy/{ProxyHost}"] : [];
    }
}
