using System.Runtime.InteropServices;

namespace Cleanroom.GuestAgent.Native;

/// <summary>The kernel random generator's ioctls and the wall clock: what a guest restored from a snapshot must renew.</summary>
internal static unsafe partial class LibC
{
    /// <summary>RNDADDENTROPY = _IOW('R', 0x03, int[2]): mix in a struct rand_pool_info and credit its entropy.</summary>
    public const nuint RNDADDENTROPY = 0x40085203;

    /// <summary>RNDRESEEDCRNG = _IO('R', 0x07): reseed the CRNG from the pool now, not at its next interval (Linux 4.17+).</summary>
    public const nuint RNDRESEEDCRNG = 0x5207;

    public const int CLOCK_REALTIME = 0;

    [LibraryImport(Library, EntryPoint = "clock_settime", SetLastError = true)]
    public static partial int ClockSetTime(int clock, TimeSpec* time);
}
