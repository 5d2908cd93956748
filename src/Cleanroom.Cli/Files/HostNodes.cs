using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Cleanroom.Escaping;

namespace Cleanroom.Cli.Files;

/// <summary>What is at a local path, seen without following a final symlink.</summary>
internal enum HostNodeKind
{
    Missing,
    Directory,
    Symlink,
    RegularFile,

    /// <summary>A device node, FIFO or socket.</summary>
    Special,
}

/// <summary>
/// The few local file-system calls cp needs that .NET has no exact form for: an lstat that reports the node type,
/// a rename that can refuse to replace (RENAME_NOREPLACE), and the effective user and group the copies belong to.
/// Paths are marshalled with <see cref="FileNameMarshaller"/>, so a name that is not valid UTF-8 (escaped, see
/// <see cref="FileNameBytes"/>) is passed as its exact bytes.
/// </summary>
[SupportedOSPlatform("linux")]
internal static unsafe partial class HostNodes
{
    private const int ENOENT = 2;
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const uint RenameNoReplace = 0x1;

    /// <summary>The node at <paramref name="path"/> itself (a symlink is reported, not followed).</summary>
    public static HostNodeKind KindOf(string path)
    {
        // struct statx is 256 bytes on every architecture; stx_mode is the 16-bit field at offset 28.
        var buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == ENOENT ? HostNodeKind.Missing : throw new IOException($"cannot look at {UntrustedText.Quote(path)}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        return (*(ushort*)(buffer + 28) & 0xF000) switch
        {
            0x4000 => HostNodeKind.Directory,
            0xA000 => HostNodeKind.Symlink,
            0x8000 => HostNodeKind.RegularFile,
            _ => HostNodeKind.Special,
        };
    }

    /// <summary>rename(2) of the node itself (never a symlink's target); with <paramref name="replace"/> false an existing target is an error. Returns 0 or the errno.</summary>
    public static int TryRename(string from, string to, bool replace) =>
        Renameat2(AtFdCwd, from, AtFdCwd, to, replace ? 0 : RenameNoReplace) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>The effective uid and gid of this process: copies out of a sandbox belong to whoever runs cp.</summary>
    public static (int Uid, int Gid) CurrentOwner() => ((int)GetEffectiveUid(), (int)GetEffectiveGid());

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "renameat2", StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(FileNameMarshaller), SetLastError = true)]
    private static partial int Renameat2(int oldDirectoryFd, string oldPath, int newDirectoryFd, string newPath, uint flags);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUid();

    [LibraryImport("libc", EntryPoint = "getegid")]
    private static partial uint GetEffectiveGid();
}
