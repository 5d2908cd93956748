using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Cleanroom.Policy.Text;

namespace Cleanroom.Policy;

/// <summary>
/// The host part of a network rule in its one canonical spelling (<see cref="Value"/>): a normalised name, a
/// <c>*.</c> wildcard, an IP address, or a CIDR block with its host bits clear (<c>/32</c> and <c>/128</c> become
/// plain addresses). Equal patterns have equal <see cref="Value"/>s.
/// </summary>
public sealed class HostPattern : IEquatable<HostPattern>
{
    private const string Expected =
        "a host name (api.github.com), a wildcard (*.example.com), an IP address (10.1.2.3) or a CIDR block (10.0.0.0/8)";

    private readonly byte[]? _address;

    private HostPattern(HostPatternKind kind, string value, string? suffix, byte[]? address, int prefixLength)
    {
        Kind = kind;
        Value = value;
        WildcardSuffix = suffix;
        _address = address;
        PrefixLength = prefixLength;
    }

    /// <summary>Which of the four shapes this is.</summary>
    public HostPatternKind Kind { get; }

    /// <summary>The canonical text, e.g. <c>xn--bcher-kva.example</c>, <c>*.example.com</c>, <c>10.0.0.0/8</c>.</summary>
    public string Value { get; }

    /// <summary>For <see cref="HostPatternKind.Wildcard"/>, the name below which it matches.</summary>
    public string? WildcardSuffix { get; }

    /// <summary>For addresses and networks, the prefix length (32 or 128 for a single address).</summary>
    public int PrefixLength { get; }

    /// <summary>
    /// How specific the pattern is, for "exact beats wildcard": an exact name beats any wildcard, a wildcard
    /// with more labels beats one with fewer, a longer prefix beats a shorter one.
    /// </summary>
    internal int Specificity => Kind switch
    {
        HostPatternKind.Name => int.MaxValue,
        HostPatternKind.Wildcard => WildcardSuffix!.Count(c => c == '.') + 1,
        _ => PrefixLength,
    };

    /// <summary>Parses and normalises a host text; <paramref name="error"/> says what is wrong otherwise.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out HostPattern? pattern, out string error)
    {
        pattern = Parse(text, out var problem);
        error = problem?.Message ?? string.Empty;
        return pattern is not null;
    }

    /// <summary>True when a connection to <paramref name="destination"/> falls under this pattern.</summary>
    internal bool Matches(Destination destination) => Kind switch
    {
        HostPatternKind.Name => destination.Name == Value,
        HostPatternKind.Wildcard => destination.Name is { } name && name.EndsWith("." + WildcardSuffix, StringComparison.Ordinal),
        _ => destination.Address is { } address && IpLiteral.SharePrefix(address, _address!, PrefixLength),
    };

    /// <summary>True when every destination that <paramref name="other"/> matches is also matched by this pattern.</summary>
    internal bool Covers(HostPattern other) => (Kind, other.Kind) switch
    {
        (HostPatternKind.Name, HostPatternKind.Name) => Value == other.Value,
        (HostPatternKind.Wildcard, HostPatternKind.Name) => other.Value.EndsWith("." + WildcardSuffix, StringComparison.Ordinal),
        (HostPatternKind.Wildcard, HostPatternKind.Wildcard) =>
            other.WildcardSuffix == WildcardSuffix || other.WildcardSuffix!.EndsWith("." + WildcardSuffix, StringComparison.Ordinal),
        (HostPatternKind.Address or HostPatternKind.Network, HostPatternKind.Address or HostPatternKind.Network) =>
            other.PrefixLength >= PrefixLength && IpLiteral.SharePrefix(other._address!, _address!, PrefixLength),
        _ => false,
    };

    internal static HostPattern? Parse(string text, out HostProblem? problem)
    {
        problem = null;
        var host = text.Trim();
        if (host.Length == 0)
        {
            problem = new HostProblem(PolicyErrorKind.InvalidHost, "the host is empty", Expected);
            return null;
        }

        if (host.Contains("://", StringComparison.Ordinal))
        {
            problem = new HostProblem(PolicyErrorKind.UrlNotHost, "a URL is not a host; write only the host name", Expected);
            return null;
        }

        if (host.Length > 2 && host[0] == '[' && host[^1] == ']')
        {
            host = host[1..^1];
        }

        if (host.Contains('/', StringComparison.Ordinal))
        {
            return ParseNetwork(host, out problem);
        }

        if (host.Any(c => c is '?' or '#' or '@' or '\\' || char.IsWhiteSpace(c)))
        {
            problem = new HostProblem(PolicyErrorKind.UrlNotHost, "this looks like part of a URL, not a host", Expected);
            return null;
        }

        if (IsAddressRange(host))
        {
            problem = new HostProblem(PolicyErrorKind.HostRange,
                "address ranges are not supported; use a CIDR block such as 10.0.0.0/24", Expected);
            return null;
        }

        if (IpLiteral.LooksLikeAddress(host))
        {
            if (!IpLiteral.TryParse(host, out var bytes))
            {
                var why = host.Contains(':', StringComparison.Ordinal)
                    ? "this is not a valid IPv6 address"
                    : "this is not a valid IPv4 address (four decimal numbers 0-255 without leading zeros)";
                problem = new HostProblem(PolicyErrorKind.InvalidHost, why, Expected);
                return null;
            }

            return new HostPattern(HostPatternKind.Address, IpLiteral.Format(bytes), null, bytes, bytes.Length * 8);
        }

        if (host.StartsWith("*.", StringComparison.Ordinal))
        {
            return ParseWildcard(host[2..], out problem);
        }

        if (host.Contains('*', StringComparison.Ordinal))
        {
            var why = host == "*"
                ? "'*' alone is not a rule; every host is reached only through default: allow"
                : "a wildcard may only be a whole leading label, as in *.example.com";
            problem = new HostProblem(PolicyErrorKind.InvalidHost, why, Expected);
            return null;
        }

        if (!HostNameRules.TryNormalize(host, out var name, out var nameProblem))
        {
            problem = new HostProblem(PolicyErrorKind.InvalidHost, nameProblem, Expected);
            return null;
        }

        return new HostPattern(HostPatternKind.Name, name, null, null, 0);
    }

    private static HostPattern? ParseWildcard(string suffixText, out HostProblem? problem)
    {
        problem = null;
        if (suffixText.Contains('*', StringComparison.Ordinal))
        {
            problem = new HostProblem(PolicyErrorKind.InvalidHost, "only one leading '*.' is allowed", Expected);
            return null;
        }

        if (!HostNameRules.TryNormalize(suffixText, out var suffix, out var why))
        {
            problem = new HostProblem(PolicyErrorKind.InvalidHost, why, Expected);
            return null;
        }

        if (!suffix.Contains('.', StringComparison.Ordinal))
        {
            problem = new HostProblem(PolicyErrorKind.InvalidHost,
                "a wildcard must sit below a domain with at least two labels, such as *.example.com", Expected);
            return null;
        }

        return new HostPattern(HostPatternKind.Wildcard, "*." + suffix, suffix, null, 0);
    }

    private static HostPattern? ParseNetwork(string host, out HostProblem? problem)
    {
        problem = null;
        var slash = host.IndexOf('/', StringComparison.Ordinal);
        var addressText = host[..slash];
        var prefixText = host[(slash + 1)..];
        if (!IpLiteral.LooksLikeAddress(addressText) || !IpLiteral.TryParse(addressText, out var address))
        {
            problem = new HostProblem(PolicyErrorKind.UrlNotHost, "a path or URL is not a host; write only the host name", Expected);
            return null;
        }

        var maxPrefix = address.Length * 8;
        var prefix = prefixText.Length is > 0 and <= 3 && prefixText.All(char.IsAsciiDigit)
            ? int.Parse(prefixText, CultureInfo.InvariantCulture)
            : -1;
        if (prefix < 0 || prefix > maxPrefix)
        {
            problem = new HostProblem(PolicyErrorKind.InvalidCidr, $"the prefix length must be a number from 0 to {maxPrefix}", Expected);
            return null;
        }

        if (addressText.Contains("::ffff:", StringComparison.OrdinalIgnoreCase) && address.Length == 4)
        {
            problem = new HostProblem(PolicyErrorKind.InvalidCidr, "write IPv4-mapped networks in IPv4 form, e.g. 10.0.0.0/8", Expected);
            return null;
        }

        var network = IpLiteral.Truncate(address, prefix);
        if (!network.AsSpan().SequenceEqual(address))
        {
            problem = new HostProblem(PolicyErrorKind.InvalidCidr,
                $"the address has bits set after the prefix; did you mean {IpLiteral.Format(network)}/{prefix}?", Expected);
            return null;
        }

        var value = IpLiteral.Format(network);
        return prefix == maxPrefix
            ? new HostPattern(HostPatternKind.Address, value, null, network, prefix)
            : new HostPattern(HostPatternKind.Network, value + "/" + prefix.ToString(CultureInfo.InvariantCulture), null, network, prefix);
    }

    private static bool IsAddressRange(string host)
    {
        var dash = host.IndexOf('-', StringComparison.Ordinal);
        return dash > 0
            && IpLiteral.LooksLikeAddress(host[..dash])
            && IpLiteral.LooksLikeAddress(host[(dash + 1)..]);
    }

    /// <inheritdoc/>
    public bool Equals(HostPattern? other) => other is not null && other.Value == Value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as HostPattern);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    /// <inheritdoc/>
    public override string ToString() => Value;
}
