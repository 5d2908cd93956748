using System.Net;

namespace Cleanroom.Network.Dns;

/// <summary>How the filter names the source of a message when it asks the directory who sent it.</summary>
internal static class DnsSource
{
    /// <summary>An IPv4 guest reaching a dual-stack socket shows as <c>::ffff:a.b.c.d</c>; the directory knows <c>a.b.c.d</c>.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
