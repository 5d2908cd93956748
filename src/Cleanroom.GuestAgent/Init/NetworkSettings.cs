using System.Net;
using System.Net.Sockets;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// The guest's one IPv4 link, from <c>cleanroom.net=ADDRESS/PREFIX,GATEWAY,RESOLVER</c> on the kernel command line:
/// its address, the host end of the link (the default route) and the resolver (the host's DNS filter).
/// </summary>
internal sealed record NetworkSettings(IPAddress Address, int PrefixLength, IPAddress Gateway, IPAddress Resolver)
{
    /// <summary>The subnet mask for <see cref="PrefixLength"/>, e.g. 255.255.255.252 for /30.</summary>
    public IPAddress Netmask
    {
        get
        {
            var bytes = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, uint.MaxValue << (32 - PrefixLength));
            return new IPAddress(bytes);
        }
    }

    /// <summary>Parses the value of <c>cleanroom.net=</c>; null when it is malformed (the agent then configures nothing).</summary>
    public static NetworkSettings? Parse(string value)
    {
        var parts = value.Split(',');
        if (parts.Length != 3)
        {
            return null;
        }

        var slash = parts[0].IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0
            || !IPAddress.TryParse(parts[0][..slash], out var address)
            || !int.TryParse(parts[0][(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix)
            || prefix is < 1 or > 31
            || !IPAddress.TryParse(parts[1], out var gateway)
            || !IPAddress.TryParse(parts[2], out var resolver))
        {
            return null;
        }

        var all = new[] { address, gateway, resolver };
        return all.All(a => a.AddressFamily == AddressFamily.InterNetwork) ? new NetworkSettings(address, prefix, gateway, resolver) : null;
    }
}
