using System.Globalization;
using System.Net;

namespace Cleanroom.Network.Links;

/// <summary>
/// One sandbox's point-to-point link: the TAP device on the host, the host's end (the guest's gateway and resolver)
/// and the guest's address, in a /30 of their own, plus the guest card's MAC.
/// </summary>
public sealed record SandboxLink(int Index, string TapName, IPAddress HostAddress, IPAddress GuestAddress, int PrefixLength, string Mac)
{
    /// <summary>The agent's kernel argument that configures the guest's side.</summary>
    public string KernelArgument => string.Create(CultureInfo.InvariantCulture, $"cleanroom.net={GuestAddress}/{PrefixLength},{HostAddress},{HostAddress}");
}
