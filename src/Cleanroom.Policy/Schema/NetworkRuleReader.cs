using System.Collections.Immutable;
using System.Globalization;
using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy.Schema;

/// <summary>
/// Reads one network rule: the <c>host:port</c> shorthand (deny rules may also be a bare host, meaning every
/// port) or the <c>{host, ports}</c> mapping, which is the only form that takes IPv6 addresses.
/// </summary>
internal static class NetworkRuleReader
{
    private const string AllowExpected = "host:port such as api.github.com:443, or {host: <host>, ports: [443]}";
    private const string DenyExpected = "host, host:port, or {host: <host>, ports: [22]}";
    private const string PortExpected = "a port number from 1 to 65535";

    public static RuleEntry? Read(YamlNode node, KeyPath path, SchemaReader reader, bool isDeny)
    {
        var expected = isDeny ? DenyExpected : AllowExpected;
        return node switch
        {
            ScalarNode { IsString: true } scalar => ReadShorthand(scalar, path, reader, isDeny, expected),
            MappingNode mapping => ReadMapping(mapping, path, reader, isDeny),
            _ => Fail(reader, node, path, expected),
        };
    }

    private static RuleEntry? Fail(SchemaReader reader, YamlNode node, KeyPath path, string expected)
    {
        reader.Error(PolicyErrorKind.WrongType, node, path, "a rule is a host:port string or a {host, ports} mapping", expected);
        return null;
    }

    private static RuleEntry? ReadShorthand(ScalarNode node, KeyPath path, SchemaReader reader, bool isDeny, string expected)
    {
        var text = node.Value.Trim();
        if (text.Contains("://", StringComparison.Ordinal))
        {
            reader.Error(PolicyErrorKind.UrlNotHost, node, path, "a URL is not a rule; write only host:port", expected);
            return null;
        }

        if (text.StartsWith('[') || text.Count(c => c == ':') > 1)
        {
            reader.Error(PolicyErrorKind.Ipv6Shorthand, node, path,
                "IPv6 addresses cannot be written as host:port; use the mapping form {host: \"2001:db8::1\", ports: [443]}",
                expected);
            return null;
        }

        var colon = text.LastIndexOf(':');
        if (colon < 0 && !isDeny)
        {
            reader.Error(PolicyErrorKind.MissingPort, node, path,
                "an allow rule needs a port, as in api.github.com:443", expected);
            return null;
        }

        var hostText = colon < 0 ? text : text[..colon];
        ImmutableArray<int> ports = [];
        if (colon >= 0)
        {
            var port = ParseShorthandPort(text[(colon + 1)..], node, path, reader);
            if (port is null)
            {
                return null;
            }

            ports = [port.Value];
        }

        var host = ReadHost(hostText, node, path, reader, expected);
        return host is null ? null : new RuleEntry(host, ports, node, path);
    }

    private static int? ParseShorthandPort(string text, ScalarNode node, KeyPath path, SchemaReader reader)
    {
        if (text.Length == 0)
        {
            reader.Error(PolicyErrorKind.MissingPort, node, path, "nothing follows the ':'", PortExpected);
            return null;
        }

        if (IsRange(text))
        {
            reader.Error(PolicyErrorKind.PortRange, node, path, "port ranges are not supported; list each port in the mapping form", PortExpected);
            return null;
        }

        if (text.Length > 5 || !text.All(char.IsAsciiDigit) || int.Parse(text, CultureInfo.InvariantCulture) is < 1 or > 65535)
        {
            reader.Error(PolicyErrorKind.InvalidPort, node, path,
                $"{ScalarNode.Quote(text)} is not a port", PortExpected);
            return null;
        }

        return int.Parse(text, CultureInfo.InvariantCulture);
    }

    private static RuleEntry? ReadMapping(MappingNode mapping, KeyPath path, SchemaReader reader, bool isDeny)
    {
        var keys = reader.Keys(mapping, path, "host", "ports");
        HostPattern? host = null;
        if (keys.TryGetValue("host", out var hostEntry))
        {
            var hostText = reader.String(hostEntry.Value, path.Key("host"), "a host name, wildcard, IP address or CIDR block");
            if (hostText is not null)
            {
                host = ReadHost(hostText, hostEntry.Value, path.Key("host"), reader, isDeny ? DenyExpected : AllowExpected);
            }
        }
        else
        {
            reader.Missing(mapping, path, "host", "host: <host name, wildcard, IP address or CIDR block>");
        }

        ImmutableArray<int>? ports = [];
        if (keys.TryGetValue("ports", out var portsEntry))
        {
            ports = ReadPorts(portsEntry.Value, path.Key("ports"), reader);
        }
        else if (!isDeny)
        {
            reader.Diagnostics.Error(PolicyErrorKind.MissingPort, mapping.Location, path.Key("ports").ToString(),
                "an allow rule needs its ports", "no \"ports\" key", "ports: [443]");
            ports = null;
        }

        return host is null || ports is null ? null : new RuleEntry(host, ports.Value, mapping, path);
    }

    private static ImmutableArray<int>? ReadPorts(YamlNode node, KeyPath path, SchemaReader reader)
    {
        if (node is ScalarNode)
        {
            return ReadPort(node, path, reader) is { } single ? [single] : null;
        }

        var sequence = reader.Sequence(node, path, "a list of port numbers such as [80, 443]");
        if (sequence is null)
        {
            return null;
        }

        if (sequence.Items.IsEmpty)
        {
            reader.Error(PolicyErrorKind.MissingPort, node, path,
                "the port list is empty; list at least one port (a deny rule without 'ports' covers every port)", "[443]");
            return null;
        }

        var ports = new List<int>();
        var ok = true;
        for (var i = 0; i < sequence.Items.Length; i++)
        {
            var port = ReadPort(sequence.Items[i], path.Index(i), reader);
            ok &= port is not null;
            ports.Add(port ?? 0);
        }

        return ok ? [.. ports] : null;
    }

    private static int? ReadPort(YamlNode node, KeyPath path, SchemaReader reader)
    {
        if (node is ScalarNode scalar && scalar.TryGetInteger(out var value))
        {
            if (value is >= 1 and <= 65535)
            {
                return (int)value;
            }

            reader.Error(PolicyErrorKind.InvalidPort, node, path, "the port is out of range", PortExpected);
            return null;
        }

        if (node is ScalarNode text && IsRange(text.Value.Trim()))
        {
            reader.Error(PolicyErrorKind.PortRange, node, path, "port ranges are not supported; list each port", PortExpected);
            return null;
        }

        var quoted = node is ScalarNode { IsPlain: false } q && q.Value.All(char.IsAsciiDigit);
        reader.Error(PolicyErrorKind.InvalidPort, node, path,
            quoted ? "ports are numbers; write them without quotes" : "this is not a port", PortExpected);
        return null;
    }

    private static HostPattern? ReadHost(string text, YamlNode node, KeyPath path, SchemaReader reader, string expected)
    {
        var host = HostPattern.Parse(text, out var problem);
        if (host is null)
        {
            reader.Error(problem!.Kind, node, path, problem.Message, expected);
        }

        return host;
    }

    private static bool IsRange(string text)
    {
        var separator = text.Contains("..", StringComparison.Ordinal) ? ".." : "-";
        var parts = text.Split(separator);
        return parts.Length == 2 && parts.All(p => p.Trim().Length > 0 && p.Trim().All(char.IsAsciiDigit));
    }
}
