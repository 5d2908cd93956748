using System.Runtime.InteropServices;

namespace Cleanroom.Gateway.Cache;

/// <summary>
/// fsync of a directory, so a rename into it survives a power cut. .NET cannot open a directory as a file, hence libc.
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0;
    private const int CloseOnExec = 0x80000; // O_CLOEXEC on every architecture .NET runs Linux on

    /// <summary>
    /// O_DIRECTORY for <paramref name="architecture"/>, or 0 where we do not know it. The value differs between
    /// architectures: 0x10000 on x86 and x86-64 is O_DIRECT on arm and arm64, whose O_DIRECTORY is 0x4000. An unknown
    /// architecture gets no flag rather than a guess, because a wrong bit could mean anything there while O_RDONLY alone
    /// opens a directory just as well; the flag only makes a non-directory fail to open.
    /// </summary>
    internal static int DirectoryFlag(Architecture architecture) => architecture switch
    {
        Architecture.X64 or Architecture.X86 or Architecture.S390x or Architecture.RiscV64 or Architecture.LoongArch64 => 0x10000,
        Architecture.Arm64 or Architecture.Arm or Architecture.Armv6 or Architecture.Ppc64le => 0x4000,
        _ => 0,
    };

    private static readonly int Directory = DirectoryFlag(RuntimeInformation.ProcessArchitecture);

    /// <summary>Flushes <paramref name="path"/>'s entries to disk.</summary>
    /// <exception cref="IOException">The directory could not be opened or flushed.</exception>
    public static void Flush(string path)
    {
        var fd = Open(path, ReadOnly | Directory | CloseOnExec);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {path} to flush it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {path} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
