using Cleanroom.Daemon.Admission;
using Cleanroom.Daemon.Sandboxes;
using Cleanroom.Daemon.State;
using Cleanroom.Daemon.Tests.Fakes;
using Grpc.Core;

namespace Cleanroom.Daemon.Tests;

/// <summary>Caps per sandbox and in total are checked before any record, directory or VM exists; booting sandboxes count.</summary>
public sealed class AdmissionTests
{
    private static readonly SandboxLimits Small = new()
    {
        MaxVcpus = 2,
        MaxMemoryBytes = 512L << 20,
        MaxDiskBytes = 1L << 30,
        MaxTotalVcpus = 2,
        MaxTotalMemoryBytes = 1L << 30,
        MaxTotalDiskBytes = 2L << 30,
    };

    [Theory]
    [InlineData(3, 256, "vCPUs")]
    [InlineData(1, 1024, "memory")]
    public async Task A_sandbox_above_the_per_sandbox_caps_is_refused_before_anything_exists(int vcpus, int memoryMiB, string named)
    {
        await using var daemon = new DaemonHarness(o => o with { Limits = Small });

        var error = await Assert.ThrowsAsync<DaemonException>(() => daemon.CreateAsync(new SandboxRequest(null, vcpus, memoryMiB)));

        Assert.Equal((StatusCode.ResourceExhausted, ReasonCode.ResourceLimitExceeded), (error.Status, error.Reason));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        AssertNothingCreated(daemon, records: 0);
    }

    [Fact]
    public async Task Booting_sandboxes_count_against_the_totals_and_free_them_when_terminated()
    {
        await using var daemon = new DaemonHarness(o => o with { Limits = Small });
        daemon.Backend.HoldStarts = true;
        var first = daemon.CreateAsync(new SandboxRequest(null, Vcpus: 1));
        var firstHold = await daemon.Backend.NextHeldStartAsync();
        var second = daemon.CreateAsync(new SandboxRequest(null, Vcpus: 1));
        var secondHold = await daemon.Backend.NextHeldStartAsync();

        var error = await Assert.ThrowsAsync<DaemonException>(() => daemon.CreateAsync(new SandboxRequest(null, Vcpus: 1)));

        Assert.Equal(ReasonCode.ResourceLimitExceeded, error.Reason);
        Assert.Contains("total of 2", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, daemon.Store.ListSandboxes(terminalToo: true, clientKey: null, limit: int.MaxValue).Count);
        Assert.Equal(2, daemon.WorkDirs().Count);
        Assert.Equal(2, daemon.Backend.StartCalls);

        await daemon.Manager.TerminateAsync(firstHold.SandboxId, "make room");
        await Assert.ThrowsAsync<DaemonException>(() => first.WaitAsync(Waits.Bound));
        daemon.Backend.HoldStarts = false;
        var third = await daemon.CreateAsync(new SandboxRequest(null, Vcpus: 1)).WaitAsync(Waits.Bound);
        secondHold.Release();
        var secondReady = await second.WaitAsync(Waits.Bound);

        Assert.Equal(SandboxStatus.Ready, third.Status);
        Assert.Equal(SandboxStatus.Ready, secondReady.Status);
    }

    private static void AssertNothingCreated(DaemonHarness daemon, int records)
    {
        Assert.Equal(records, daemon.Store.ListSandboxes(terminalToo: true, clientKey: null, limit: int.MaxValue).Count);
        Assert.Empty(daemon.WorkDirs());
        Assert.Equal(0, daemon.Backend.StartCalls);
    }
}
