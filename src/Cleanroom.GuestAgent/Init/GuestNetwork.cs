using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Brings up loopback and, when the host gave the VM a network card, its addresses, default routes and resolver.
/// Done with ioctls because the image may have no <c>ip</c> tool at all. Failures are logged, never fatal: a
/// sandbox without a working network is still a sandbox, and the host's firewall does not depend on the guest.
/// </summary>
internal static unsafe class GuestNetwork
{
    /// <summary>sizeof(struct ifreq): 16-byte name + 24-byte union.</summary>
    internal const int InterfaceRequestSize = 40;
    private const int RouteEntrySize = 120;      // struct rtentry on x86-64
    private const string ResolvConf = "/etc/resolv.conf";

    private static volatile string? _card;

    /// <summary>
    /// Brings up loopback, then the card with <paramref name="settings"/> (IPv4) and <paramref name="settings6"/>
    /// (IPv6); either may be absent. With neither, the card is left alone (the host gave the VM no network).
    /// </summary>
    public static void Configure(NetworkSettings? settings, Ipv6Settings? settings6)
    {
        var fd = OpenSocket();
        if (fd < 0)
        {
            return;
        }

        try
        {
            SetUp(fd, "lo");
        }
        finally
        {
            LibC.Close(fd);
        }

        if (settings is null && settings6 is null)
        {
            return;
        }

        var card = FindCard();
        if (card is null)
        {
            AgentLog.Error("network: the host configured a network but the VM has no network card");
            return;
        }

        ConfigureCard(card, settings, settings6, ResolvConf);
    }

    /// <summary>
    /// Configures <paramref name="card"/>: IPv6 sysctls and the IPv4 address before it comes up, then the default
    /// routes and the resolver (written to <paramref name="resolvConf"/>). Separate from <see cref="Configure"/> so a
    /// test can run it against an interface in a network namespace of its own.
    /// </summary>
    internal static void ConfigureCard(string card, NetworkSettings? settings, Ipv6Settings? settings6, string resolvConf)
    {
        var fd = OpenSocket();
        if (fd < 0)
        {
            return;
        }

        try
        {
            GuestNetwork6.Prepare(card, settings6);
            var addressed = settings is null
                || (SetAddress(fd, card, LibC.SIOCSIFADDR, settings.Address) && SetAddress(fd, card, LibC.SIOCSIFNETMASK, settings.Netmask));
            if (!SetUp(fd, card))
            {
                return;
            }

            if (settings is not null && addressed && AddDefaultRoute(fd, settings.Gateway))
            {
                WriteResolver(resolvConf, settings.Resolver);
                AgentLog.Info($"network: {card} {settings.Address}/{settings.PrefixLength} via {settings.Gateway}, resolver {settings.Resolver}");
            }

            if (settings6 is not null)
            {
                GuestNetwork6.Configure(card, settings6);
            }
        }
        finally
        {
            LibC.Close(fd);
        }
    }

    /// <summary>Writes the interface name into a struct ifreq, clearing the rest of it.</summary>
    internal static void WriteName(byte* request, string name)
    {
        new Span<byte>(request, InterfaceRequestSize).Clear();
        Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, 15)), new Span<byte>(request, 15));
    }

    /// <summary>Logs a failed call with errno; returns false so callers can chain it.</summary>
    internal static bool Fail(string what, string name)
    {
        AgentLog.Error($"network: cannot {what} {name}: {Errno.DescribeLast()}");
        return false;
    }

    internal static int OpenSocket()
    {
        var fd = LibC.Socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            AgentLog.Error($"network: socket failed: {Errno.DescribeLast()}");
        }

        return fd;
    }

    /// <summary>
    /// The network card: of the interfaces that are not loopback, the first by name (the VM has exactly one, and a
    /// microVM's devices never change, so the answer is remembered once found). Asked of the kernel with ioctls
    /// (SIOCGIFNAME by index, then its flags) rather than by listing /sys/class/net: under TCG the first directory
    /// listing through .NET's file APIs cost 5 to 10 ms of every cold boot, these calls well under one. A template finds
    /// it before its snapshot (<see cref="ExecWarmUp"/>), so a restored sandbox does not look again on its way to ready.
    /// </summary>
    internal static string? FindCard() => _card ??= LookUpCard();

    /// <summary>
    /// Interface indexes are handed out in order from 1 and a microVM's few interfaces are among the first; the
    /// look-up stops after this many unused indexes in a row.
    /// </summary>
    private const int MaxIndexGap = 8;

    internal static string? LookUpCard()
    {
        var fd = OpenSocket();
        if (fd < 0)
        {
            return null;
        }

        try
        {
            string? card = null;
            var request = stackalloc byte[InterfaceRequestSize];
            for (int index = 1, misses = 0; misses < MaxIndexGap; index++)
            {
                new Span<byte>(request, InterfaceRequestSize).Clear();
                *(int*)(request + 16) = index;
                if (LibC.Ioctl(fd, LibC.SIOCGIFNAME, request) != 0)
                {
                    misses++;
                    continue;
                }

                misses = 0;
                var name = Marshal.PtrToStringAnsi((nint)request);
                if (string.IsNullOrEmpty(name) || LibC.Ioctl(fd, LibC.SIOCGIFFLAGS, request) != 0 || (*(short*)(request + 16) & LibC.IFF_LOOPBACK) != 0)
                {
                    continue;
                }

                if (card is null || string.CompareOrdinal(name, card) < 0)
                {
                    card = name;
                }
            }

            return card;
        }
        finally
        {
            LibC.Close(fd);
        }
    }

    private static bool SetUp(int fd, string name)
    {
        var request = stackalloc byte[InterfaceRequestSize];
        WriteName(request, name);
        if (LibC.Ioctl(fd, LibC.SIOCGIFFLAGS, request) != 0)
        {
            return Fail("read the flags of", name);
        }

        *(short*)(request + 16) |= LibC.IFF_UP;
        return LibC.Ioctl(fd, LibC.SIOCSIFFLAGS, request) == 0 || Fail("bring up", name);
    }

    private static bool SetAddress(int fd, string name, nuint request, IPAddress address)
    {
        var buffer = stackalloc byte[InterfaceRequestSize];
        WriteName(buffer, name);
        WriteSocketAddress(buffer + 16, address);
        return LibC.Ioctl(fd, request, buffer) == 0 || Fail($"set {address} on", name);
    }

    private static bool AddDefaultRoute(int fd, IPAddress gateway)
    {
        var entry = stackalloc byte[RouteEntrySize];
        new Span<byte>(entry, RouteEntrySize).Clear();
        WriteSocketAddress(entry + 8, IPAddress.Any);   // rt_dst
        WriteSocketAddress(entry + 24, gateway);        // rt_gateway
        WriteSocketAddress(entry + 40, IPAddress.Any);  // rt_genmask
        *(ushort*)(entry + 56) = LibC.RTF_UP | LibC.RTF_GATEWAY;
        return LibC.Ioctl(fd, LibC.SIOCADDRT, entry) == 0 || Fail($"add the default route via {gateway} for", "the guest");
    }

    /// <summary>
    /// Replaces /etc/resolv.conf with a regular file naming only the host's DNS filter (an image's file may be a
    /// symlink into a systemd directory that does not exist here).
    /// </summary>
    private static void WriteResolver(string path, IPAddress resolver)
    {
        if (SmallFile.Replace(path, $"# written by the cleanroom agent: the host's DNS filter\nnameserver {resolver}\noptions attempts:2 timeout:2\n") is { } error)
        {
            AgentLog.Error("network: " + error);
        }
    }

    /// <summary>A struct sockaddr_in: family, port 0, the address in network order.</summary>
    private static void WriteSocketAddress(byte* target, IPAddress address)
    {
        var span = new Span<byte>(target, 16);
        span.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(span, LibC.AF_INET);
        address.TryWriteBytes(span[4..8], out _);
    }
}
