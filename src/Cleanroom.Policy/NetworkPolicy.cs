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

    /// <summary>
    /// The ports a connection to <paramref name="name"/> may use, ascending: each port an allow rule names that
    /// <see cref="Evaluate"/> allows for it (deny rules included). Empty for an address or an unparseable name. What
    /// the firewall opens for the addresses an allowed answer returns.
    /// </summary>
    public IReadOnlyList<int> AllowedPorts(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Destination.TryParse(name, out var destination) || destination.IsAddress)
        {
            return [];
        }

        return Allow.Where(r => r.Host.Matches(destination)).SelectMany(r => r.Ports).Distinct()
            .Where(p => Evaluate(name, p).IsAllowed).Order().ToList();
    }

    /// <summary>
    /// Whether the DNS filter may resolve <paramref name="name"/>: it is a host name (an address literal is never
    /// looked up) and <see cref="Evaluate"/> allows it on at least one port. A name the policy lets through on no
    /// port is not resolved, so a denied name never reaches an upstream resolver.
    /// </summary>
    public bool MayResolve(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Destination.TryParse(name, out var destination) || destination.IsAddress)
        {
            return false;
        }

        // Only ports that some matching rule names can change the verdict; with default allow, also the first port
        // no matching deny rule names. Every candidate is still decided by Evaluate, the one decision function.
        var candidates = new SortedSet<int>();
        var denied = new HashSet<int>();
        foreach (var rule in Deny)
        {
            if (rule.Host.Matches(destination))
            {
                if (rule.AllPorts)
                {
                    return false;
                }

                denied.UnionWith(rule.Ports);
            }
        }

        foreach (var rule in Allow)
        {
            if (rule.Host.Matches(destination))
            {
                candidates.UnionWith(rule.Ports);
            }
        }

        if (Default == NetworkDefault.Allow)
        {
            var free = Enumerable.Range(1, 65535).FirstOrDefault(port => !denied.Contains(port));
            if (free != 0)
            {
                candidates.Add(free);
            }
        }

        return candidates.Any(port => Evaluate(destination.Text, port).IsAllowed);
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
