using System.Runtime.InteropServices;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>Files .NET cannot make: FIFOs, and names whose raw bytes are not UTF-8.</summary>
internal static unsafe partial class RawFiles
{
    public static void MkFifo(string path) => Assert.Equal(0, MkFifoNative(path, 0x1A4));

    public static void CreateFile(byte[] path)
    {
        fixed (byte* pointer = Terminated(path))
        {
            var fd = OpenNative(pointer, 0x41, 0x1A4); // O_WRONLY | O_CREAT, 0644
            Assert.True(fd >= 0, $"open: errno {Marshal.GetLastPInvokeError()}");
            _ = CloseNative(fd);
        }
    }

    public static void Unlink(byte[] path)
    {
        fixed (byte* pointer = Terminated(path))
        {
            Assert.Equal(0, UnlinkNative(pointer));
        }
    }

    private static byte[] Terminated(byte[] path) => [.. path, 0];

    [LibraryImport("libc.so.6", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MkFifoNative(string path, uint mode);

    [LibraryImport("libc.so.6", EntryPoint = "open", SetLastError = true)]
    private static partial int OpenNative(byte* path, int flags, int mode);

    [LibraryImport("libc.so.6", EntryPoint = "close")]
    private static partial int CloseNative(int fd);

    [LibraryImport("libc.so.6", EntryPoint = "unlink", SetLastError = true)]
    private static partial int UnlinkNative(byte* path);
}
