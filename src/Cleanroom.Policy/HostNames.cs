using Cleanroom.Policy.Text;

namespace Cleanroom.Policy;

/// <summary>
/// The one spelling of a DNS host name that rules, the DNS filter and the gateway share (lowercase, no trailing dot,
/// IDN as punycode), for callers outside the policy engine.
/// </summary>
public static class HostNames
{
    /// <summary>Normalises <paramref name="raw"/>; false (with <paramref name="problem"/>) when it is not a usable name.</summary>
    public static bool TryNormalize(string raw, out string normalized, out string problem)
    {
        ArgumentNullException.ThrowIfNull(raw);
        return HostNameRules.TryNormalize(raw, out normalized, out problem);
    }
}
