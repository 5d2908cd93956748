using Cleanroom.Network.Nflog;
using Cleanroom.Network.Tests.Nflog.Support;

namespace Cleanroom.Network.Tests.Nflog;

public class SandboxRateLimiterTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void A_burst_passes_then_the_excess_is_refused()
    {
        var limiter = new SandboxRateLimiter(perSecond: 2, burst: 5, _time);

        var taken = Enumerable.Range(0, 12).Count(_ => limiter.TryTake("a"));

        Assert.Equal(5, taken);
    }

    [Fact]
    public void Tokens_come_back_at_the_rate_and_never_above_the_burst()
    {
        var limiter = new SandboxRateLimiter(perSecond: 2, burst: 5, _time);
        while (limiter.TryTake("a"))
        {
        }

        _time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.Equal(3, Enumerable.Range(0, 10).Count(_ => limiter.TryTake("a")));

        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(5, Enumerable.Range(0, 10).Count(_ => limiter.TryTake("a")));
    }

    [Fact]
    public void One_noisy_sandbox_does_not_use_up_another_ones_budget()
    {
        var limiter = new SandboxRateLimiter(perSecond: 1, burst: 3, _time);
        for (var i = 0; i < 100; i++)
        {
            limiter.TryTake("noisy");
        }

        Assert.True(limiter.TryTake("quiet"));
    }

    [Fact]
    public void Idle_sandboxes_are_forgotten_so_tracking_stays_bounded()
    {
        var limiter = new SandboxRateLimiter(perSecond: 10, burst: 2, _time);
        for (var i = 0; i < 1024; i++)
        {
            limiter.TryTake($"old-{i}");
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        limiter.TryTake("new");

        Assert.Equal(1, limiter.Tracked);
    }
}
