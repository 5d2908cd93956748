using System.Collections.Concurrent;
using System.Net;
using Cleanroom.Network.Dns;
using Cleanroom.Network.Tests.Support;
using Cleanroom.Policy;

namespace Cleanroom.Network.Tests.Dns.Support;

/// <summary>
/// The sandboxes the tests play, each with its own loopback source address, and a directory that knows them. Policies
/// are compiled from YAML exactly as the CLI does it.
/// </summary>
internal sealed class TestSandboxes : IDnsClientDirectory
{
    /// <summary>A sandbox with an ordinary policy.</summary>
    public static readonly IPAddress PolicyAddress = IPAddress.Parse("127.0.0.2");

    /// <summary>A sandbox created with --dangerously-allow-all.</summary>
    public static readonly IPAddress OpenAddress = IPAddress.Parse("127.0.0.3");

    /// <summary>A second ordinary sandbox, for limits that are per sandbox.</summary>
    public static readonly IPAddress OtherAddress = IPAddress.Parse("127.0.0.4");

    /// <summary>An ordinary sandbox whose link has no IPv6.</summary>
    public static readonly IPAddress Ipv4OnlyAddress = IPAddress.Parse("127.0.0.5");

    /// <summary>The host end of the policy sandbox's link: what the gateway's name resolves to for it.</summary>
    public static readonly IPAddress GatewayAddress = IPAddress.Parse("10.213.0.1");

    /// <summary>The IPv6 host end of the policy sandbox's link.</summary>
    public static readonly IPAddress GatewayAddress6 = IPAddress.Parse("fd63:6c65:616e::1");

    /// <summary>Not a sandbox.</summary>
    public static readonly IPAddress UnknownAddress = IPAddress.Parse("127.0.0.9");

    private static readonly NetworkPolicy Policy = TestNetworkPolicies.Compile(
        allow: """[allowed.test:443, "*.allowed.test:443", "*.wild.test:443", www.cnamed.test:443, "*.flood.test:443"]""",
        deny: """[secret.wild.test]""");

    private readonly ConcurrentDictionary<IPAddress, DnsClient> _clients = new()
    {
        [PolicyAddress] = new DnsClient("sb-policy", Policy, AllowAll: false, GatewayAddress: GatewayAddress, GatewayAddress6: GatewayAddress6),
        [OpenAddress] = new DnsClient("sb-open", TestNetworkPolicies.Compile("[]", "[]"), AllowAll: true),
        [OtherAddress] = new DnsClient("sb-other", Policy, AllowAll: false),
        [Ipv4OnlyAddress] = new DnsClient("sb-v4", Policy, AllowAll: false, Ipv6: false, GatewayAddress: GatewayAddress),
    };

    public DnsClient? Find(IPAddress source) => _clients.GetValueOrDefault(source);
}
