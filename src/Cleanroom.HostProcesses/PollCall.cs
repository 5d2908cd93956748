using System.Runtime.InteropServices;

namespace Cleanroom.HostProcesses;

/// <summary>poll(2) over an array of descriptors, for the pidfd waits.</summary>
internal static partial class PollCall
{
    public const short In = 0x1;

    [StructLayout(LayoutKind.Sequential)]
    public struct Descriptor
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary>poll on <paramref name="count"/> descriptors starting at <paramref name="first"/>; -1 with errno set on failure.</summary>
    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(ref Descriptor first, ulong count, int timeoutMs);
}
