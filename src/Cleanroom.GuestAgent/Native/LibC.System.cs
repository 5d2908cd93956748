using System.Runtime.InteropServices;

namespace Cleanroom.GuestAgent.Native;

/// <summary>Calls only init needs: mounts, root switching, modules, hostname, power.</summary>
internal static unsafe partial class LibC
{
    public const nuint MS_RDONLY = 1;
    public const nuint MS_NOSUID = 2;
    public const nuint MS_NODEV = 4;
    public const nuint MS_NOEXEC = 8;
    public const nuint MS_REMOUNT = 32;
    public const nuint MS_MOVE = 8192;

    public const int RB_AUTOBOOT = 0x01234567;
    public const int RB_POWER_OFF = 0x4321FEDC;

    /// <summary>finit_module on x86-64; glibc 2.36 has no wrapper for it.</summary>
    public const nint SYS_finit_module = 313;

    [LibraryImport(Library, EntryPoint = "mount", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Mount(string? source, string target, string? fileSystemType, nuint flags, string? data);

    [LibraryImport(Library, EntryPoint = "umount2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Umount2(string target, int flags);

    [LibraryImport(Library, EntryPoint = "chroot", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Chroot(string path);

    [LibraryImport(Library, EntryPoint = "chdir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Chdir(string path);

    [LibraryImport(Library, EntryPoint = "sethostname", SetLastError = true)]
    public static partial int SetHostName(byte* name, nuint length);

    [LibraryImport(Library, EntryPoint = "sync")]
    public static partial void Sync();

    [LibraryImport(Library, EntryPoint = "reboot", SetLastError = true)]
    public static partial int Reboot(int command);

    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true)]
    public static partial nint FinitModuleSyscall(nint number, int fd, byte* parameters, int flags);
}
