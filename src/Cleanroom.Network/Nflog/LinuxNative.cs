using System.Runtime.InteropServices;

namespace Cleanroom.Network.Nflog;

/// <summary>
/// The libc calls the NFLOG reader needs and .NET has no API for: a raw netlink socket, poll(2) on two descriptors,
/// an eventfd to wake the receive thread, and setns(2) to open sockets inside another network namespace. Constants
/// are the Linux x86-64/arm64 values (the generic ABI); this project runs only there.
/// </summary>
internal static unsafe partial class LinuxNative
{
    public const int AfNetlink = 16;
    public const int SockRaw = 3;
    public const int SockCloexec = 0x80000;
    public const int NetlinkNetfilter = 12;

    public const int SolSocket = 1;
    public const int SoRcvbuf = 8;
    public const int SoRcvbufforce = 33;

    public const int MsgTrunc = 0x20;
    public const int MsgDontwait = 0x40;

    public const short PollIn = 0x001;
    public const short PollErr = 0x008;
    public const short PollHup = 0x010;
    public const short PollNval = 0x020;

    public const int EfdCloexec = 0x80000;
    public const int EfdNonblock = 0x800;

    public const int ORdonly = 0;
    public const int OCloexec = 0x80000;
    public const int CloneNewnet = 0x40000000;

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EBUSY = 16;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int EPROTONOSUPPORT = 93;
    public const int EOPNOTSUPP = 95;
    public const int EAFNOSUPPORT = 97;
    public const int ENOBUFS = 105;

    /// <summary>The kernel-internal "operation not supported" (not EOPNOTSUPP) that netfilter handlers return.</summary>
    public const int ENOTSUPP = 524;

    /// <summary>struct sockaddr_nl (netlink(7)): family, padding, port id, multicast groups.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockaddrNetlink
    {
        public ushort Family;
        public ushort Pad;
        public uint PortId;
        public uint Groups;
    }

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(SafeFileDescriptor fd, SockaddrNetlink* address, int addressLength);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(SafeFileDescriptor fd, int level, int name, int* value, int valueLength);

    [LibraryImport("libc", EntryPoint = "sendto", SetLastError = true)]
    public static partial nint SendTo(SafeFileDescriptor fd, byte* buffer, nint length, int flags, SockaddrNetlink* address, int addressLength);

    [LibraryImport("libc", EntryPoint = "recvfrom", SetLastError = true)]
    public static partial nint ReceiveFrom(SafeFileDescriptor fd, byte* buffer, nint length, int flags, SockaddrNetlink* address, int* addressLength);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(SafeFileDescriptor fd, byte* buffer, nint length);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(SafeFileDescriptor fd, int namespaceType);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>"Operation not permitted (errno 1)": the errno's message with its number, for error texts.</summary>
    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
