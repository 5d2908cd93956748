using System.Buffers.Binary;
using System.Net;
using System.Text;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Brings up loopback and, when the host gave the VM a network card, its address, default route and resolver.
/// Done with ioctls because the image may have no <c>ip</c> tool at all. Failures are logged, never fatal: a
/// sandbox without a working network is still a sandbox, and the host's firewall does not depend on the guest.
/// </summary>
internal static unsafe class GuestNetwork
{
    private const int InterfaceRequestSize = 40; // struct ifreq: 16-byte name + 24-byte union
    private const int RouteEntrySize = 120;      // struct rtentry on x86-64
    private const string ResolvConf = "/etc/resolv.conf";

    public static void Configure(NetworkSettings? settings)
    {
        var fd = LibC.Socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            AgentLog.Error($"network: socket failed: {Errno.DescribeLast()}");
            return;
        }

        try
        {
            SetUp(fd, "lo");
            if (settings is null)
            {
                return;
            }

            var card = FindCard();
            if (card is null)
            {
                AgentLog.Error("network: the host configured a network but the VM has no network card");
                return;
            }

            if (SetAddress(fd, card, LibC.SIOCSIFADDR, settings.Address)
                && SetAddress(fd, card, LibC.SIOCSIFNETMASK, settings.Netmask)
                && SetUp(fd, card)
                && AddDefaultRoute(fd, settings.Gateway))
            {
                WriteResolver(settings.Resolver);
                AgentLog.Info($"network: {card} {settings.Address}/{settings.PrefixLength} via {settings.Gateway}, resolver {settings.Resolver}");
            }
        }
        finally
        {
            LibC.Close(fd);
        }
    }

    /// <summary>The first network card that is not loopback (the VM has exactly one).</summary>
    private static string? FindCard()
    {
        try
        {
            return Directory.GetDirectories("/sys/class/net")
                .Select(Path.GetFileName)
                .Where(n => n is not null and not "lo")
                .Order(StringComparer.Ordinal)
                .FirstOrDefault();
        }
        catch (IOException)
        {
            return null;
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
    private static void WriteResolver(IPAddress resolver)
    {
        try
        {
            File.Delete(ResolvConf);
            File.WriteAllText(ResolvConf, $"# written by the cleanroom agent: the host's DNS filter\nnameserver {resolver}\noptions attempts:2 timeout:2\n");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            AgentLog.Error($"network: cannot write {ResolvConf}: {ex.Message}");
        }
    }

    private static void WriteName(byte* request, string name)
    {
        new Span<byte>(request, InterfaceRequestSize).Clear();
        Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, 15)), new Span<byte>(request, 15));
    }

    /// <summary>A struct sockaddr_in: family, port 0, the address in network order.</summary>
    private static void WriteSocketAddress(byte* target, IPAddress address)
    {
        var span = new Span<byte>(target, 16);
        span.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(span, LibC.AF_INET);
        address.TryWriteBytes(span[4..8], out _);
    }

    private static bool Fail(string what, string name)
    {
        AgentLog.Error($"network: cannot {what} {name}: {Errno.DescribeLast()}");
        return false;
    }
}
