using System.Runtime.InteropServices;

namespace Cleanroom.GuestAgent.Native;

/// <summary>The socket and ioctl numbers init needs to bring up the guest's network, and the socket pair of its exec warm-up (x86-64 Linux).</summary>
internal static unsafe partial class LibC
{
    public const int AF_UNIX = 1;
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int SOCK_STREAM = 1;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SHUT_RDWR = 2;

    public const nuint SIOCADDRT = 0x890B;
    public const nuint SIOCGIFFLAGS = 0x8913;
    public const nuint SIOCSIFFLAGS = 0x8914;
    public const nuint SIOCSIFADDR = 0x8916;
    public const nuint SIOCSIFNETMASK = 0x891C;
    public const nuint SIOCGIFINDEX = 0x8933;
    public const nuint SIOCGIFNAME = 0x8910;
    public const nuint SIOCSIFHWADDR = 0x8924;

    /// <summary>ARPHRD_ETHER: the address family of an Ethernet hardware address in struct sockaddr.</summary>
    public const ushort ARPHRD_ETHER = 1;

    public const short IFF_UP = 0x1;
    public const short IFF_LOOPBACK = 0x8;
    public const ushort RTF_UP = 0x1;
    public const ushort RTF_GATEWAY = 0x2;

    [LibraryImport(Library, EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Library, EntryPoint = "socketpair", SetLastError = true)]
    public static partial int SocketPair(int domain, int type, int protocol, int* fds);

    [LibraryImport(Library, EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);
}
