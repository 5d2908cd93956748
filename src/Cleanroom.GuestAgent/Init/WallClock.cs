using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>Sets the guest's wall clock; a restored snapshot's clock stands where it stood when it was taken.</summary>
internal static unsafe class WallClock
{
    /// <summary>Returns null on success or what failed.</summary>
    public static string? Set(long unixTimeNanoseconds)
    {
        var time = new LibC.TimeSpec
        {
            Seconds = unixTimeNanoseconds / 1_000_000_000,
            Nanoseconds = unixTimeNanoseconds % 1_000_000_000,
        };
        return LibC.ClockSetTime(LibC.CLOCK_REALTIME, &time) != 0 ? $"clock: clock_settime failed: {Errno.DescribeLast()}" : null;
    }
}
