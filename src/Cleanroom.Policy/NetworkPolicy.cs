using System.Collections.Immutable;

namespace Cleanroom.Policy;

/// <summary>
/// The egress rules of a sandbox and the one function that applies them (<see cref="Evaluate"/>), shared by the
/// DNS filter, the firewall and the gateway so they can never disagree. Semantics are documented in docs/policy.md.
/// </summary>
public sealed class NetworkPolicy
{
    internal NetworkPolicy(NetworkDefault defaultAction, ImmutableArray<NetworkRule> allow, ImmutableArray<NetworkRule> deny)
    {
        Default = defaultAction;
        Allow = allow;
        Deny = deny;
    }

    /// <summary>No rules and a default of deny: what a sandbox created without a policy gets.</summary>
    public static NetworkPolicy DenyAll { get; } = new(NetworkDefault.Deny, [], []);

    /// <summary>What happens when no rule matches.</summary>
    public NetworkDefault Default { get; }

    /// <summary>Allow rules, one per host, sorted by host.</summary>
    public ImmutableArray<NetworkRule> Allow { get; }

    /// <summary>Deny rules, one per host, sorted by host.</summary>
    public ImmutableArray<NetworkRule> Deny { get; }

    /// <summary>
    /// Decides whether a connection to <paramref name="host"/>:<paramref name="port"/> is allowed:
    /// <list type="number">
    /// <item>The host is normalised like rule hosts (case, trailing dot, IDN); an unparseable host or a port
    /// outside 1–65535 is denied.</item>
    /// <item>If any deny rule matches, the connection is denied (explicit deny beats explicit allow).</item>
    /// <item>Otherwise, if any allow rule matches, it is allowed.</item>
    /// <item>Otherwise <see cref="Default"/> applies.</item>
    /// </list>
    /// Among several matching rules the most specific is reported (exact beats wildcard, longer prefix beats
    /// shorter). Wildcards match names strictly below their domain; IP literals match only address and CIDR rules.
    /// </summary>
    public NetworkDecision Evaluate(string host, int port)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (port is < 1 or > 65535 || !Destination.TryParse(host, out var destination))
        {
            return new NetworkDecision(false, NetworkDecisionSource.InvalidDestination, null, host, port);
        }

        if (MostSpecificMatch(Deny, destination, port) is { } deny)
        {
            return new NetworkDecision(false, NetworkDecisionSource.DenyRule, deny, destination.Text, port);
        }

        if (MostSpecificMatch(Allow, destination, port) is { } allow)
        {
            return new NetworkDecision(true, NetworkDecisionSource.AllowRule, allow, destination.Text, port);
        }

        return new NetworkDecision(Default == NetworkDefault.Allow, NetworkDecisionSource.Default, null, destination.Text, port);
    }

    private static NetworkRule? MostSpecificMatch(ImmutableArray<NetworkRule> rules, Destination destination, int port)
    {
        NetworkRule? best = null;
        foreach (var rule in rules)
        {
            if (rule.Matches(destination, port) && (best is null || rule.Host.Specificity > best.Host.Specificity))
            {
                best = rule;
            }
        }

        return best;
    }
}
