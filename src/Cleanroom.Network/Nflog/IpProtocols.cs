namespace Cleanroom.Network.Nflog;

/// <summary>The IANA protocol numbers the reader tells apart, and the IPv6 extension headers it walks past.</summary>
internal static class IpProtocols
{
    public const int Icmp = 1;
    public const int Tcp = 6;
    public const int Udp = 17;
    public const int IcmpV6 = 58;

    public const int V6HopByHop = 0;
    public const int V6Routing = 43;
    public const int V6Fragment = 44;
    public const int V6AuthenticationHeader = 51;
    public const int V6DestinationOptions = 60;
}
