using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Network.Taps;

/// <summary>
/// Creates TAP devices the way the VMM needs them: opened here as root (TUNSETIFF with IFF_TAP | IFF_NO_PI) and
/// handed over as a descriptor. The device is not persistent: it disappears when the last descriptor closes, so a
/// VM that dies, or a daemon that is killed, leaves no TAP behind.
/// </summary>
public static partial class TapDevice
{
    private const string CloneDevice = "/dev/net/tun";
    private const int OpenReadWrite = 0x2;      // O_RDWR
    private const int OpenCloseOnExec = 0x80000; // O_CLOEXEC
    private const nuint TunSetInterface = 0x400454ca; // TUNSETIFF
    private const short InterfaceTap = 0x0002;  // IFF_TAP
    private const short NoPacketInfo = 0x1000;  // IFF_NO_PI
    private const int InterfaceRequestSize = 40;
    private const int MaxNameLength = 15;

    /// <summary>Creates TAP <paramref name="name"/>; the returned handle keeps it alive. Throws <see cref="IOException"/>.</summary>
    public static unsafe SafeFileHandle Create(string name)
    {
        if (name.Length is 0 or > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new ArgumentException($"'{name}' is not a valid interface name", nameof(name));
        }

        var fd = Open(CloneDevice, OpenReadWrite | OpenCloseOnExec);
        if (fd < 0)
        {
            throw new IOException($"cannot open {CloneDevice}: {Marshal.GetLastPInvokeErrorMessage()}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var request = stackalloc byte[InterfaceRequestSize];
        new Span<byte>(request, InterfaceRequestSize).Clear();
        Encoding.ASCII.GetBytes(name, new Span<byte>(request, MaxNameLength));
        *(short*)(request + 16) = InterfaceTap | NoPacketInfo;
        if (Ioctl(fd, TunSetInterface, request) != 0)
        {
            var error = Marshal.GetLastPInvokeErrorMessage();
            handle.Dispose();
            throw new IOException($"cannot create TAP device {name}: {error}");
        }

        return handle;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int Ioctl(int fd, nuint request, void* argument);
}
