using System.Text;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Writes one value to a kernel file under /proc (a sysctl, the sysrq trigger) in one open and one write: the kernel
/// acts on each write as a whole, so a short write is a failure, never a reason to write the rest.
/// </summary>
internal static unsafe class KernelFile
{
    /// <summary>Returns null on success, or what failed.</summary>
    public static string? Write(string path, string value)
    {
        var fd = LibC.Open(path, LibC.O_WRONLY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return $"cannot open {path}: {Errno.DescribeLast()}";
        }

        try
        {
            var bytes = Encoding.ASCII.GetBytes(value + "\n");
            fixed (byte* pointer = bytes)
            {
                return LibC.Write(fd, pointer, bytes.Length) == bytes.Length ? null : $"cannot write {value} to {path}: {Errno.DescribeLast()}";
            }
        }
        finally
        {
            LibC.Close(fd);
        }
    }
}
