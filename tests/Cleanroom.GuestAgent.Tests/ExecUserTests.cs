using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>Running as another user goes through the agent binary's exec-as mode (needs root, as in the guest).</summary>
public class ExecUserTests
{
    [Fact]
    public async Task Numeric_uid_and_gid()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(AgentHarness.Shell("id -u; id -g; id -G") with { User = "1234:2345" });
        Assert.Equal("1234\n2345\n2345\n", result.StdoutText);
    }

    [Fact]
    public async Task Named_user_from_etc_passwd()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(AgentHarness.Shell("id -u; echo $HOME") with { User = "nobody" });
        Assert.Equal("65534\n/nonexistent\n", result.StdoutText);
    }

    [Fact]
    public async Task Root_runs_directly()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(AgentHarness.Shell("id -u") with { User = "root" });
        Assert.Equal("0\n", result.StdoutText);
    }

    [Fact]
    public async Task Signals_are_at_their_defaults_after_the_switch()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(AgentHarness.Shell("grep -E '^Sig(Ign|Blk)' /proc/self/status") with { User = "1000" });
        Assert.Equal("SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n", result.StdoutText);
    }

    [Fact]
    public async Task Unknown_user_is_126_with_a_clear_error()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(AgentHarness.Shell("true") with { User = "no-such-user-xyz" });
        Assert.Equal(new ExitMessage(126, 0, "unknown user: no-such-user-xyz (not in /etc/passwd)"), result.Exit);
    }
}
