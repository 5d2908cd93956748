using Cleanroom.GuestAgent.Channel;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>
/// How often a guest with no host looks for one: every 10 ms at first (a restored VM's first host arrives within
/// milliseconds, and that wait is create latency), every 100 ms once two hundred looks in a row found nobody (its
/// daemon is gone; a faster loop only burns the host's CPU), and at once when the host that served it as a sandbox left.
/// </summary>
public sealed class AgentLoopDelayTests
{
    [Fact]
    public void Looks_fast_at_first_then_slows_down_when_no_host_comes()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(10), AgentLoop.DelayAfter(0));
        Assert.Equal(TimeSpan.FromMilliseconds(10), AgentLoop.DelayAfter(1));
        Assert.Equal(TimeSpan.FromMilliseconds(10), AgentLoop.DelayAfter(199));
        Assert.Equal(TimeSpan.FromMilliseconds(100), AgentLoop.DelayAfter(200));
        Assert.Equal(TimeSpan.FromMilliseconds(100), AgentLoop.DelayAfter(100_000));
    }

    [Fact]
    public void Looks_slowly_at_once_after_its_sandbox_host_left()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(100), AgentLoop.DelayAfter(0, hostLeftSandbox: true));
        Assert.Equal(TimeSpan.FromMilliseconds(100), AgentLoop.DelayAfter(1, hostLeftSandbox: true));
    }
}
