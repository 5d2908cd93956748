using System.Collections.Immutable;
using System.Globalization;

namespace Cleanroom.Policy;

/// <summary>
/// One allow or deny rule: a host pattern and its ports, deduplicated and sorted. An empty port list (deny rules
/// only) means every port.
/// </summary>
public sealed class NetworkRule
{
    internal NetworkRule(HostPattern host, ImmutableArray<int> ports)
    {
        Host = host;
        Ports = ports;
    }

    /// <summary>The normalised host pattern.</summary>
    public HostPattern Host { get; }

    /// <summary>Ports in ascending order; empty means all ports.</summary>
    public ImmutableArray<int> Ports { get; }

    /// <summary>True for a deny rule written without ports.</summary>
    public bool AllPorts => Ports.IsEmpty;

    internal bool Matches(Destination destination, int port) =>
        (AllPorts || Ports.BinarySearch(port) >= 0) && Host.Matches(destination);

    /// <summary><c>api.github.com:443</c>, <c>example.com:80,443</c>, or <c>evil.example (all ports)</c>.</summary>
    public override string ToString() => AllPorts
        ? Host.Value + " (all ports)"
        : (Host.Value.Contains(':', StringComparison.Ordinal) ? "[" + Host.Value + "]" : Host.Value)
            + ":" + string.Join(',', Ports.Select(p => p.ToString(CultureInfo.InvariantCulture)));
}
