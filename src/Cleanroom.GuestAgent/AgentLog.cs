using System.Text;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent;

/// <summary>
/// Line logger with the <c>cleanroom-agent:</c> prefix. Writes straight to a descriptor with one write() per line:
/// as PID 1 there is no logging infrastructure, and System.Console would touch terminal settings.
/// </summary>
internal static unsafe class AgentLog
{
    private const string Prefix = "cleanroom-agent: ";
    private static int _fd = 2;

    /// <summary>Sends every later line to the kernel console (init, once /dev is mounted).</summary>
    public static void UseConsole()
    {
        var fd = LibC.Open("/dev/console", LibC.O_WRONLY | LibC.O_NOCTTY | LibC.O_CLOEXEC, 0);
        if (fd >= 0)
        {
            _fd = fd;
        }
    }

    public static void Info(string message) => WriteLine(Prefix + message);

    public static void Error(string message) => WriteLine(Prefix + "ERROR: " + message);

    /// <summary>Something did not work but the boot goes on without it.</summary>
    public static void Warn(string message) => WriteLine(Prefix + "WARNING: " + message);

    /// <summary>Writes a line without the prefix (a marker the host looks for).</summary>
    public static void Raw(string line) => WriteLine(line);

    private static void WriteLine(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        fixed (byte* pointer = bytes)
        {
            var offset = 0;
            while (offset < bytes.Length)
            {
                var written = LibC.Write(_fd, pointer + offset, bytes.Length - offset);
                if (written <= 0 && Errno.Last != Errno.EINTR)
                {
                    return; // Nowhere left to report a logging failure.
                }

                offset += (int)Math.Max(written, 0);
            }
        }
    }
}
