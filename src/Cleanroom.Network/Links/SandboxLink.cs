using System.Globalization;
using System.Net;

namespace Cleanroom.Network.Links;

/// <summary>
/// One sandbox's point-to-point link: the TAP device on the host, the host's end (the guest's gateway and resolver)
/// and the guest's address, in a /30 of their own, plus the guest card's MAC; with IPv6, a /126 of their own too.
/// </summary>
public sealed record SandboxLink(int Index, string TapName, IPAddress HostAddress, IPAddress GuestAddress, int PrefixLength, string Mac)
{
    /// <summary>The host's IPv6 end of the link (the guest's IPv6 gateway); null when the link has no IPv6.</summary>
    public IPAddress? HostAddress6 { get; init; }

    /// <summary>The guest's IPv6 address; null when the link has no IPv6.</summary>
    public IPAddress? GuestAddress6 { get; init; }

    /// <summary>The agent's kernel arguments that configure the guest's side (the IPv6 one only with IPv6).</summary>
    public IReadOnlyList<string> KernelArguments =>
        GuestAddress6 is null || HostAddress6 is null
            ? [Ipv4Argument]
            : [Ipv4Argument, string.Create(CultureInfo.InvariantCulture, $"cleanroom.net6={GuestAddress6}/{LinkAddressPool.LinkPrefixLength6},{HostAddress6}")];

    private string Ipv4Argument => string.Create(CultureInfo.InvariantCulture, $"cleanroom.net={GuestAddress}/{PrefixLength},{HostAddress},{HostAddress}");
}
