using Cleanroom.Gateway.Server;

namespace Cleanroom.Gateway.Tests.Server;

public sealed class SandboxLimiterTests
{
    [Fact]
    public void The_bucket_refills_at_the_configured_rate()
    {
        var clock = new TickClock();
        var limiter = new SandboxLimiter(maxConcurrent: 100, perSecond: 2, burst: 3, clock);
        for (var i = 0; i < 3; i++)
        {
            limiter.TryEnter("a", out _)!.Dispose();
        }

        Assert.Null(limiter.TryEnter("a", out var why));
        Assert.Contains("a second", why, StringComparison.Ordinal);

        // Another sandbox has its own bucket.
        Assert.NotNull(limiter.TryEnter("b", out _));

        clock.Advance(TimeSpan.FromMilliseconds(500));
        limiter.TryEnter("a", out _)!.Dispose();
        Assert.Null(limiter.TryEnter("a", out _));
    }

    [Fact]
    public void Concurrency_is_bounded_and_a_lease_frees_its_slot_once()
    {
        var limiter = new SandboxLimiter(maxConcurrent: 2, perSecond: 1000, burst: 1000, new TickClock());
        var one = limiter.TryEnter("a", out _)!;
        using var two = limiter.TryEnter("a", out _)!;
        Assert.Null(limiter.TryEnter("a", out var why));
        Assert.Contains("in flight", why, StringComparison.Ordinal);

        one.Dispose();
        one.Dispose();
        using var three = limiter.TryEnter("a", out _)!;
        Assert.Null(limiter.TryEnter("a", out _));
    }

    [Fact]
    public void Sandboxes_that_come_and_go_leave_no_state_behind()
    {
        var clock = new TickClock();
        var limiter = new SandboxLimiter(maxConcurrent: 4, perSecond: 10, burst: 10, clock);
        using var busy = limiter.TryEnter("busy", out _)!;
        for (var i = 0; i < 5000; i++)
        {
            limiter.TryEnter($"sbx-{i}", out _)!.Dispose();
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.InRange(limiter.TrackedSandboxes, 1, SandboxLimiter.SweepThreshold + 200);
        clock.Advance(TimeSpan.FromSeconds(5));
        limiter.Sweep();

        // Only the sandbox with a request in flight is still tracked.
        Assert.Equal(1, limiter.TrackedSandboxes);
        Assert.NotNull(limiter.TryEnter("busy", out _));
    }

    private sealed class TickClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
