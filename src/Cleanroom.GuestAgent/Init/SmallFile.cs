using System.Runtime.InteropServices;
using System.Text;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Replaces a small configuration file (/etc/hostname, /etc/machine-id, /etc/resolv.conf) with a regular file, in
/// four system calls. A VM restored from a template runs every code path afresh (under TCG nothing translated in the
/// template survives the restore), and .NET's File APIs cost about a hundred milliseconds there on their first use
/// (measured with the configure step's timings); these calls cost a few. The old file (an image's may be a symlink,
/// possibly dangling) is unlinked first, and the new one is never followed through a link.
/// </summary>
internal static unsafe class SmallFile
{
    /// <summary>Returns null on success, or what failed.</summary>
    public static string? Replace(string path, string content)
    {
        if (LibC.Unlink(path) != 0 && Marshal.GetLastPInvokeError() != Errno.ENOENT)
        {
            return $"cannot remove {path}: {Errno.DescribeLast()}";
        }

        var fd = LibC.Open(path, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0b110_100_100);
        if (fd < 0)
        {
            return $"cannot create {path}: {Errno.DescribeLast()}";
        }

        try
        {
            var bytes = Encoding.UTF8.GetBytes(content);
            fixed (byte* start = bytes)
            {
                for (var offset = 0; offset < bytes.Length;)
                {
                    var written = LibC.Write(fd, start + offset, bytes.Length - offset);
                    if (written < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR)
                    {
                        continue;
                    }

                    if (written <= 0)
                    {
                        return $"cannot write {path}: {Errno.DescribeLast()}";
                    }

                    offset += (int)written;
                }
            }

            return null;
        }
        finally
        {
            LibC.Close(fd);
        }
    }
}
