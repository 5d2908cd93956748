using Cleanroom.Daemon.Hosting;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The daemon's stop signals: the first stops it gracefully, copies of it arriving together (Ctrl-C to the process
/// group plus the forward from <c>cleanroom serve</c>, systemd signalling the whole unit) do not cut that short, and a
/// signal sent later ends it at once.
/// </summary>
public sealed class StopSignalsTests
{
    [Fact]
    public void The_first_signal_and_its_copies_stop_gracefully_and_a_later_one_forces()
    {
        var clock = new StepClock();
        var signals = new StopSignals(clock);

        Assert.False(signals.Receive()); // graceful stop begins
        clock.Advance(TimeSpan.FromMilliseconds(5));
        Assert.False(signals.Receive()); // the forwarded copy
        clock.Advance(StopSignals.DuplicateWindow - TimeSpan.FromMilliseconds(10));
        Assert.False(signals.Receive()); // still within the window of the first
        clock.Advance(TimeSpan.FromMilliseconds(10));
        Assert.True(signals.Receive()); // the user asked again: now
    }

    private sealed class StepClock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
