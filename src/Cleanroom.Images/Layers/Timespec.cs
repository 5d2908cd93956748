using System.Runtime.InteropServices;

namespace Cleanroom.Images.Layers;

/// <summary>struct timespec on 64-bit Linux (the only targets: x86-64 and arm64).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Timespec
{
    public long Seconds;
    public long Nanoseconds;

    public static Timespec From(DateTimeOffset time)
    {
        // UtcTicks counts from year 1, so the remainder is never negative and pre-1970 times floor correctly.
        var sinceEpoch = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var seconds = Math.DivRem(sinceEpoch, TimeSpan.TicksPerSecond, out var ticks);
        if (ticks < 0)
        {
            seconds--;
            ticks += TimeSpan.TicksPerSecond;
        }

        return new Timespec { Seconds = seconds, Nanoseconds = ticks * 100 };
    }
}
