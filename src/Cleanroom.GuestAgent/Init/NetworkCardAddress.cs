using System.Globalization;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Gives the network card the hardware address the host chose. A VM restored from a template has the address the
/// template booted with, the same in every sandbox made from it; the host hands each sandbox its own.
/// </summary>
internal static unsafe class NetworkCardAddress
{
    /// <summary>
    /// Sets <paramref name="mac"/> (six bytes) on the card <see cref="GuestNetwork"/> configures; done before the card
    /// is brought up. Returns null on success or what failed.
    /// </summary>
    public static string? Set(byte[] mac)
    {
        var card = GuestNetwork.FindCard();
        if (card is null)
        {
            return "network: the host gave a hardware address but the VM has no network card";
        }

        var fd = GuestNetwork.OpenSocket();
        if (fd < 0)
        {
            return $"network: socket failed: {Errno.DescribeLast()}";
        }

        try
        {
            var request = stackalloc byte[GuestNetwork.InterfaceRequestSize];
            WriteRequest(request, card, mac);
            if (LibC.Ioctl(fd, LibC.SIOCSIFHWADDR, request) != 0)
            {
                return $"network: cannot set the hardware address of {card}: {Errno.DescribeLast()}";
            }

            AgentLog.Info($"network: {card} hardware address {string.Join(':', mac.Select(b => b.ToString("x2", CultureInfo.InvariantCulture)))}");
            return null;
        }
        finally
        {
            LibC.Close(fd);
        }
    }

    /// <summary>struct ifreq with ifr_hwaddr: the name, then a struct sockaddr of family ARPHRD_ETHER holding the address.</summary>
    internal static void WriteRequest(byte* request, string card, byte[] mac)
    {
        GuestNetwork.WriteName(request, card);
        *(ushort*)(request + 16) = LibC.ARPHRD_ETHER;
        mac.CopyTo(new Span<byte>(request + 18, MacAddress.Length));
    }
}
