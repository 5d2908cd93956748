using Cleanroom.Daemon.Tests.Fakes;

namespace Cleanroom.Daemon.Tests;

/// <summary>A guest that never answers the hello: the failed create says what its vCPUs were doing and how far its console got.</summary>
public sealed class SilentGuestTests
{
    [Fact]
    public async Task A_guest_that_never_answers_fails_its_create_with_its_vcpus_and_its_console_and_leaves_nothing()
    {
        await using var daemon = new DaemonHarness(o => o with { LaunchTimeout = TimeSpan.FromMilliseconds(300) });
        daemon.Backend.Mode = GuestMode.Raw;
        var create = daemon.CreateAsync();
        var vm = await daemon.Backend.NextVmAsync();
        vm.CpuDescription = "vCPU 0 halted in the kernel at ffffffff81a17a0b";
        _ = await vm.RawGuest.WaitAsync(Waits.Bound); // connected, and silent from then on

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => create.WaitAsync(Waits.Bound));

        Assert.Contains("the guest agent did not answer within 0.3 s; vCPUs: vCPU 0 halted in the kernel at ffffffff81a17a0b; console: fake VM ", failure.Message, StringComparison.Ordinal);
        var sandbox = Assert.Single(daemon.Store.ListSandboxes(terminalToo: true, clientKey: null, limit: 10));
        await daemon.WaitReleasedAsync(sandbox.Id);
        daemon.AssertNothingLeftOf(sandbox.Id);
    }
}
