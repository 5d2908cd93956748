using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Vm.Templates;

/// <summary>
/// Anonymous memory files for template RAM. QEMU 7.2 opens a memory backend's path read-write even for a private
/// mapping, so a template on disk would have to be writable by every clone's uid; a memfd sealed against writes
/// cannot be changed by anyone (a write or a shared writable mapping fails with EPERM), while a private
/// copy-on-write mapping of it still works. Clones reach it as <c>/proc/self/fd/N</c>.
/// </summary>
internal static partial class Memfd
{
    private const uint MfdAllowSealing = 0x2;
    private const uint MfdCloexec = 0x1;
    private const int FAddSeals = 1033;
    private const int FGetSeals = 1034;
    private const int SealSeal = 0x1;
    private const int SealShrink = 0x2;
    private const int SealGrow = 0x4;
    private const int SealWrite = 0x8;

    /// <summary>Every seal: no writes, no size change, no further seal changes.</summary>
    public const int AllSeals = SealSeal | SealShrink | SealGrow | SealWrite;

    public static SafeFileHandle Create(string name, long bytes)
    {
        var fd = MemfdCreate(name, MfdAllowSealing | MfdCloexec);
        if (fd < 0)
        {
            throw new VmException($"memfd_create failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}.");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (FTruncate(fd, bytes) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new VmException($"sizing the template memory to {bytes} bytes failed: {new Win32Exception(error).Message}.");
        }

        return handle;
    }

    /// <summary>Seals the memfd for good. Fails while any writable shared mapping of it exists (a running template VM).</summary>
    public static void Seal(SafeFileHandle memory)
    {
        if (FcntlInt(memory.DangerousGetHandle().ToInt32(), FAddSeals, AllSeals) != 0)
        {
            throw new VmException($"sealing the template memory failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}.");
        }
    }

    public static int Seals(SafeFileHandle memory) => FcntlInt(memory.DangerousGetHandle().ToInt32(), FGetSeals, 0);

    /// <summary>
    /// Bytes actually allocated to the file: st_blocks × 512. st_blocks sits at byte 64 of struct stat on both x86-64
    /// and arm64 Linux (144 and 128 bytes long), so one buffer covers both.
    /// </summary>
    public static unsafe long AllocatedBytes(SafeFileHandle memory)
    {
        if (memory.IsClosed)
        {
            return 0;
        }

        var buffer = stackalloc byte[256];
        return FStat(memory.DangerousGetHandle().ToInt32(), buffer) == 0 ? *(long*)(buffer + 64) * 512 : 0;
    }

    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static unsafe partial int FStat(int fd, byte* buffer);

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int FTruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int FcntlInt(int fd, int command, int argument);
}
