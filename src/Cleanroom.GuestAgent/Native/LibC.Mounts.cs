using System.Runtime.InteropServices;

namespace Cleanroom.GuestAgent.Native;

/// <summary>
/// The new mount API calls for idmapped mounts (open_tree, mount_setattr, move_mount) and the raw clone that makes a
/// user namespace to carry the idmapping. glibc 2.36 has no wrappers for these, so they go through syscall(2); the
/// numbers of the mount calls are the same on every architecture (they were added after the tables were unified).
/// </summary>
internal static unsafe partial class LibC
{
    public const nint SYS_open_tree = 428;
    public const nint SYS_move_mount = 429;
    public const nint SYS_mount_setattr = 442;

    public const uint OPEN_TREE_CLONE = 1;
    public const uint OPEN_TREE_CLOEXEC = 0x80000;
    public const uint MOVE_MOUNT_F_EMPTY_PATH = 0x4;
    public const uint AT_EMPTY_PATH = 0x1000;
    public const ulong MOUNT_ATTR_IDMAP = 0x00100000;
    public const int MNT_DETACH = 2;

    public const nint CLONE_NEWUSER = 0x10000000;
    public const nint SIGCHLD = 17;

    [LibraryImport(Library, EntryPoint = "syscall", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint OpenTreeSyscall(nint number, int directoryFd, string path, uint flags);

    [LibraryImport(Library, EntryPoint = "syscall", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint MountSetAttrSyscall(nint number, int directoryFd, string path, uint flags, MountAttr* attributes, nuint size);

    [LibraryImport(Library, EntryPoint = "syscall", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint MoveMountSyscall(nint number, int fromDirectoryFd, string fromPath, int toDirectoryFd, string toPath, uint flags);

    /// <summary>clone(2) with fork semantics (no new stack): the child continues from this call with a return of 0.</summary>
    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true)]
    public static partial nint CloneSyscall(nint number, nint flags, nint stack, nint parentTid, nint childTid, nint tls);

    [LibraryImport(Library, EntryPoint = "pause")]
    public static partial void Pause();

    /// <summary>The clone syscall number: x86-64 has its own table, arm64 the generic one.</summary>
    public static nint SysClone => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 220 : 56;

    /// <summary>struct mount_attr (MOUNT_ATTR_SIZE_VER0, 32 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MountAttr
    {
        public ulong AttrSet;
        public ulong AttrClear;
        public ulong Propagation;
        public ulong UserNamespaceFd;
    }
}
