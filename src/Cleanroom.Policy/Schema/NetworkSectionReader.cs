using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy.Schema;

/// <summary>Reads <c>sandbox.network</c>: the default, the allow list and the deny list.</summary>
internal static class NetworkSectionReader
{
    public static NetworkPolicy Read(YamlNode node, KeyPath path, SchemaReader reader, PolicyCompileOptions options)
    {
        var empty = new NetworkPolicy(NetworkDefault.Deny, [], []);
        var mapping = reader.Mapping(node, path, "a mapping with default, allow and deny");
        if (mapping is null)
        {
            return empty;
        }

        var keys = reader.Keys(mapping, path, "default", "allow", "deny");
        var defaultAction = keys.TryGetValue("default", out var d) ? ReadDefault(d.Value, path.Key("default"), reader, options) : NetworkDefault.Deny;
        var allow = keys.TryGetValue("allow", out var a) ? ReadRules(a.Value, path.Key("allow"), reader, isDeny: false) : [];
        var deny = keys.TryGetValue("deny", out var n) ? ReadRules(n.Value, path.Key("deny"), reader, isDeny: true) : [];

        var allowRules = NetworkRuleSetBuilder.Merge(allow, reader);
        var denyRules = NetworkRuleSetBuilder.Merge(deny, reader);
        NetworkRuleSetBuilder.ReportShadowedAllowRules(allowRules, denyRules, reader);
        return new NetworkPolicy(defaultAction, [.. allowRules.Select(r => r.Rule)], [.. denyRules.Select(r => r.Rule)]);
    }

    private static NetworkDefault ReadDefault(YamlNode node, KeyPath path, SchemaReader reader, PolicyCompileOptions options)
    {
        var word = reader.Word(node, path, "deny", "allow");
        if (word != "allow")
        {
            return NetworkDefault.Deny;
        }

        if (!options.AllowDefaultAllow)
        {
            reader.Error(PolicyErrorKind.DefaultAllowNotPermitted, node, path,
                "default: allow would turn off egress filtering, which a repository cannot ask for by itself (only `--dangerously-allow-all` on the command line turns it off)",
                "default: deny, with the hosts the sandbox needs under allow");
            return NetworkDefault.Deny;
        }

        return NetworkDefault.Allow;
    }

    private static List<RuleEntry> ReadRules(YamlNode node, KeyPath path, SchemaReader reader, bool isDeny)
    {
        var entries = new List<RuleEntry>();

        // A single rule may be written without the list: allow: api.github.com:443
        if (node is ScalarNode { IsString: true })
        {
            AddIfValid(entries, NetworkRuleReader.Read(node, path, reader, isDeny));
            return entries;
        }

        var sequence = reader.Sequence(node, path, isDeny
            ? "a list of host, host:port or {host, ports} entries"
            : "a list of host:port or {host, ports} entries");
        if (sequence is null)
        {
            return entries;
        }

        for (var i = 0; i < sequence.Items.Length; i++)
        {
            AddIfValid(entries, NetworkRuleReader.Read(sequence.Items[i], path.Index(i), reader, isDeny));
        }

        return entries;
    }

    private static void AddIfValid(List<RuleEntry> entries, RuleEntry? entry)
    {
        if (entry is not null)
        {
            entries.Add(entry);
        }
    }
}
