using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// IPv6 on the guest's card: its sysctls (written before the card comes up) and, when the host gave IPv6, the one
/// address and the default route, with ioctls on an AF_INET6 socket. Failures are logged, never fatal, like IPv4.
/// </summary>
internal static unsafe class GuestNetwork6
{
    /// <summary>Where the per-interface IPv6 sysctls live; absent when the kernel has no IPv6.</summary>
    internal const string ConfDirectory = "/proc/sys/net/ipv6/conf";

    /// <summary>
    /// Writes the card's IPv6 sysctls; call before the card is brought up, since the kernel acts on them as it comes
    /// up (router solicitations, duplicate address detection). With <paramref name="settings"/>: no router
    /// advertisements, no SLAAC and no DAD delay (the host hands out the one address). Without: IPv6 off on the card,
    /// so applications see at once that there is none instead of trying it and waiting.
    /// </summary>
    public static void Prepare(string card, Ipv6Settings? settings)
    {
        if (settings is null)
        {
            WriteSysctl(card, "disable_ipv6", "1");
            return;
        }

        WriteSysctl(card, "accept_ra", "0");
        WriteSysctl(card, "autoconf", "0");
        WriteSysctl(card, "accept_dad", "0");
    }

    /// <summary>Adds the address and the default route ::/0 via the gateway; call once the card is up.</summary>
    public static void Configure(string card, Ipv6Settings settings)
    {
        var fd = LibC.Socket(LibC.AF_INET6, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            AgentLog.Error($"network: IPv6 socket failed: {Errno.DescribeLast()}");
            return;
        }

        try
        {
            var index = InterfaceIndex(fd, card);
            if (index > 0 && AddAddress(fd, card, index, settings) && AddDefaultRoute(fd, card, index, settings))
            {
                AgentLog.Info($"network: {card} {settings.Address}/{settings.PrefixLength} via {settings.Gateway}");
            }
        }
        finally
        {
            LibC.Close(fd);
        }
    }

    /// <summary>The card's interface index (SIOCGIFINDEX), or 0 after logging why not.</summary>
    private static int InterfaceIndex(int fd, string card)
    {
        var request = stackalloc byte[GuestNetwork.InterfaceRequestSize];
        GuestNetwork.WriteName(request, card);
        if (LibC.Ioctl(fd, LibC.SIOCGIFINDEX, request) != 0)
        {
            GuestNetwork.Fail("find the interface index of", card);
            return 0;
        }

        return *(int*)(request + 16);
    }

    private static bool AddAddress(int fd, string card, int index, Ipv6Settings settings)
    {
        var request = stackalloc byte[Ipv6Requests.InterfaceRequestSize];
        Ipv6Requests.WriteInterfaceRequest(new Span<byte>(request, Ipv6Requests.InterfaceRequestSize), settings.Address, settings.PrefixLength, index);
        return LibC.Ioctl(fd, LibC.SIOCSIFADDR, request) == 0 || GuestNetwork.Fail($"set {settings.Address}/{settings.PrefixLength} on", card);
    }

    private static bool AddDefaultRoute(int fd, string card, int index, Ipv6Settings settings)
    {
        var message = stackalloc byte[Ipv6Requests.RouteMessageSize];
        Ipv6Requests.WriteDefaultRoute(new Span<byte>(message, Ipv6Requests.RouteMessageSize), settings.Gateway, index);
        return LibC.Ioctl(fd, LibC.SIOCADDRT, message) == 0 || GuestNetwork.Fail($"add the IPv6 default route via {settings.Gateway} on", card);
    }

    /// <summary>Writes one sysctl of the card; a missing file (no IPv6 in the kernel) or a refusal is only logged.</summary>
    private static void WriteSysctl(string card, string name, string value)
    {
        if (KernelFile.Write($"{ConfDirectory}/{card}/{name}", value) is { } failure)
        {
            AgentLog.Error("network: " + failure);
        }
    }
}
