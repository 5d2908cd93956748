using System.Collections.Immutable;
using System.Globalization;
using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy.Schema;

/// <summary>
/// Turns the rules as written into the canonical rule list: one rule per host (ports of repeated hosts merged,
/// with a warning), ports deduplicated and sorted, rules sorted by host. Then reports allow rules that a deny rule
/// makes unreachable, which is how the engine keeps "deny beats allow" from silently surprising anyone.
/// </summary>
internal static class NetworkRuleSetBuilder
{
    public static List<MergedRule> Merge(List<RuleEntry> entries, SchemaReader reader)
    {
        var byHost = new Dictionary<string, (RuleEntry First, SortedSet<int>? Ports)>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (byHost.TryGetValue(entry.Host.Value, out var existing))
            {
                reader.Warning(PolicyErrorKind.DuplicateRule, entry.Node, entry.Path,
                    $"{entry.Host.Value} is already listed on line {existing.First.Node.Location.Line}; the ports were merged",
                    "each host once, with all its ports");

                // No ports means every port, which absorbs any port list.
                var merged = existing.Ports is null || entry.Ports.IsEmpty ? null : new SortedSet<int>(existing.Ports.Concat(entry.Ports));
                byHost[entry.Host.Value] = (existing.First, merged);
                continue;
            }

            byHost[entry.Host.Value] = (entry, entry.Ports.IsEmpty ? null : new SortedSet<int>(entry.Ports));
        }

        return [.. byHost.Values
            .Select(v => new MergedRule(new NetworkRule(v.First.Host, v.Ports is null ? [] : [.. v.Ports]), v.First))
            .OrderBy(r => r.Rule.Host.Value, StringComparer.Ordinal)];
    }

    public static void ReportShadowedAllowRules(List<MergedRule> allow, List<MergedRule> deny, SchemaReader reader)
    {
        foreach (var allowRule in allow)
        {
            foreach (var denyRule in deny)
            {
                if (!denyRule.Rule.Host.Covers(allowRule.Rule.Host))
                {
                    continue;
                }

                var blocked = denyRule.Rule.AllPorts ? allowRule.Rule.Ports : allowRule.Rule.Ports.Intersect(denyRule.Rule.Ports).ToImmutableArray();
                if (blocked.IsEmpty)
                {
                    continue;
                }

                var ports = string.Join(", ", blocked.Select(p => p.ToString(CultureInfo.InvariantCulture)));
                reader.Error(PolicyErrorKind.ShadowedRule, allowRule.Source.Node, allowRule.Source.Path,
                    $"allow rule {allowRule.Rule} never applies on port {ports}: deny rule {denyRule.Rule} "
                    + $"(line {denyRule.Source.Node.Location.Line}) matches the same destinations, and deny always wins",
                    "remove the allow rule, or narrow the deny rule so it does not cover it");
            }
        }
    }

    /// <summary>A canonical rule and the first place its host was written.</summary>
    internal sealed record MergedRule(NetworkRule Rule, RuleEntry Source);
}
