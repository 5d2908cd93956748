using System.Runtime.InteropServices;
using System.Text;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>
/// Files .NET cannot make or see as they are: FIFOs, and names whose raw bytes are not UTF-8. Everything here calls
/// libc with byte pointers, independently of the marshaller the tools use.
/// </summary>
internal static unsafe partial class RawFiles
{
    private const int NameOffset = 19; // d_name in struct dirent on 64-bit Linux

    public static void MkFifo(string path) => Assert.Equal(0, MkFifoNative(path, 0x1A4));

    /// <summary>A path's bytes: the UTF-8 of <paramref name="prefix"/> followed by <paramref name="raw"/>.</summary>
    public static byte[] Bytes(string prefix, params byte[] raw) => [.. Encoding.UTF8.GetBytes(prefix), .. raw];

    /// <summary>Joins a directory and a name as bytes.</summary>
    public static byte[] Join(byte[] directory, byte[] name) => [.. directory, (byte)'/', .. name];

    public static void CreateFile(byte[] path) => CreateFile(path, []);

    public static void CreateFile(byte[] path, byte[] content, uint mode = 0x1A4)
    {
        fixed (byte* pointer = Terminated(path))
        {
            var fd = OpenNative(pointer, 0x241, (int)mode); // O_WRONLY | O_CREAT | O_TRUNC
            Assert.True(fd >= 0, $"open: errno {Marshal.GetLastPInvokeError()}");
            fixed (byte* data = content)
            {
                Assert.Equal(content.Length, (int)WriteNative(fd, data, content.Length));
            }

            _ = CloseNative(fd);
            Assert.Equal(0, ChModNative(pointer, mode));
        }
    }

    public static void Mkdir(byte[] path, uint mode = 0x1ED)
    {
        fixed (byte* pointer = Terminated(path))
        {
            Assert.Equal(0, MkDirNative(pointer, mode));
        }
    }

    public static void Symlink(byte[] target, byte[] path)
    {
        fixed (byte* targetPointer = Terminated(target))
        fixed (byte* pointer = Terminated(path))
        {
            Assert.Equal(0, SymlinkNative(targetPointer, pointer));
        }
    }

    public static void HardLink(byte[] existing, byte[] path)
    {
        fixed (byte* existingPointer = Terminated(existing))
        fixed (byte* pointer = Terminated(path))
        {
            Assert.Equal(0, LinkNative(existingPointer, pointer));
        }
    }

    public static void Unlink(byte[] path)
    {
        fixed (byte* pointer = Terminated(path))
        {
            Assert.Equal(0, UnlinkNative(pointer));
        }
    }

    public static bool Exists(byte[] path) => TryStat(path, out _);

    /// <summary>lstat: type and mode bits, inode.</summary>
    public static bool TryStat(byte[] path, out LibC.StatxBuffer status)
    {
        LibC.StatxBuffer buffer;
        fixed (byte* pointer = Terminated(path))
        {
            var ok = StatxNative(LibC.AT_FDCWD, pointer, LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_BASIC_STATS, &buffer) == 0;
            status = buffer;
            return ok;
        }
    }

    public static byte[] ReadLink(byte[] path)
    {
        var buffer = new byte[4097];
        fixed (byte* pointer = Terminated(path))
        fixed (byte* target = buffer)
        {
            var length = (int)ReadLinkNative(pointer, target, (nuint)buffer.Length);
            Assert.True(length >= 0);
            return buffer[..length];
        }
    }

    public static byte[] ReadAll(byte[] path)
    {
        fixed (byte* pointer = Terminated(path))
        {
            var fd = OpenNative(pointer, 0, 0);
            Assert.True(fd >= 0, $"open: errno {Marshal.GetLastPInvokeError()}");
            try
            {
                using var content = new MemoryStream();
                var buffer = stackalloc byte[4096];
                nint read;
                while ((read = ReadNative(fd, buffer, 4096)) > 0)
                {
                    content.Write(new ReadOnlySpan<byte>(buffer, (int)read));
                }

                return content.ToArray();
            }
            finally
            {
                _ = CloseNative(fd);
            }
        }
    }

    /// <summary>The names in a directory as raw bytes (readdir, not .NET), without <c>.</c> and <c>..</c>.</summary>
    public static List<byte[]> List(byte[] directory)
    {
        var names = new List<byte[]>();
        fixed (byte* pointer = Terminated(directory))
        {
            var stream = OpenDirNative(pointer);
            Assert.True(stream != 0, $"opendir: errno {Marshal.GetLastPInvokeError()}");
            try
            {
                while (ReadDirNative(stream) is var entry && entry != null)
                {
                    var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(entry + NameOffset).ToArray();
                    if (name is not [(byte)'.'] and not [(byte)'.', (byte)'.'])
                    {
                        names.Add(name);
                    }
                }
            }
            finally
            {
                _ = CloseDirNative(stream);
            }
        }

        return names;
    }

    /// <summary>
    /// Everything under <paramref name="root"/>, one line per entry: its relative path's bytes (as Latin-1, one
    /// character a byte), type, mode, and content or link target (also byte for byte). Sorted by name.
    /// </summary>
    public static List<string> Describe(byte[] root)
    {
        var lines = new List<string>();
        Walk(root, [], lines);
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static void Walk(byte[] directory, byte[] relative, List<string> lines)
    {
        foreach (var name in List(directory))
        {
            var full = Join(directory, name);
            var path = relative.Length == 0 ? name : Join(relative, name);
            Assert.True(TryStat(full, out var status));
            var type = status.Mode & 0xF000;
            var detail = type switch
            {
                0x8000 => "file " + Encoding.Latin1.GetString(ReadAll(full)),
                0xA000 => "link " + Encoding.Latin1.GetString(ReadLink(full)),
                0x4000 => "dir",
                _ => "other",
            };
            lines.Add($"{Encoding.Latin1.GetString(path)} {Convert.ToString(status.Mode & 0xFFF, 8)} {detail}");
            if (type == 0x4000)
            {
                Walk(full, path, lines);
            }
        }
    }

    private static byte[] Terminated(byte[] path) => [.. path, 0];

    [LibraryImport("libc.so.6", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MkFifoNative(string path, uint mode);

    [LibraryImport("libc.so.6", EntryPoint = "open", SetLastError = true)]
    private static partial int OpenNative(byte* path, int flags, int mode);

    [LibraryImport("libc.so.6", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadNative(int fd, byte* buffer, nint count);

    [LibraryImport("libc.so.6", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteNative(int fd, byte* buffer, nint count);

    [LibraryImport("libc.so.6", EntryPoint = "close")]
    private static partial int CloseNative(int fd);

    [LibraryImport("libc.so.6", EntryPoint = "chmod", SetLastError = true)]
    private static partial int ChModNative(byte* path, uint mode);

    [LibraryImport("libc.so.6", EntryPoint = "mkdir", SetLastError = true)]
    private static partial int MkDirNative(byte* path, uint mode);

    [LibraryImport("libc.so.6", EntryPoint = "symlink", SetLastError = true)]
    private static partial int SymlinkNative(byte* target, byte* path);

    [LibraryImport("libc.so.6", EntryPoint = "link", SetLastError = true)]
    private static partial int LinkNative(byte* existing, byte* path);

    [LibraryImport("libc.so.6", EntryPoint = "unlink", SetLastError = true)]
    private static partial int UnlinkNative(byte* path);

    [LibraryImport("libc.so.6", EntryPoint = "readlink", SetLastError = true)]
    private static partial nint ReadLinkNative(byte* path, byte* buffer, nuint size);

    [LibraryImport("libc.so.6", EntryPoint = "statx", SetLastError = true)]
    private static partial int StatxNative(int directoryFd, byte* path, int flags, uint mask, LibC.StatxBuffer* buffer);

    [LibraryImport("libc.so.6", EntryPoint = "opendir", SetLastError = true)]
    private static partial nint OpenDirNative(byte* path);

    [LibraryImport("libc.so.6", EntryPoint = "readdir", SetLastError = true)]
    private static partial byte* ReadDirNative(nint stream);

    [LibraryImport("libc.so.6", EntryPoint = "closedir")]
    private static partial int CloseDirNative(nint stream);
}
