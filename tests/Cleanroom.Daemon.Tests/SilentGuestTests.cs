using Cleanroom.Daemon.State;
using Cleanroom.Daemon.Tests.Fakes;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// A guest that never answers the hello (a guest kernel that wedged in its boot): it is booted once more in a new VM;
/// a second silent boot fails the create, saying what its vCPUs were doing and how far its console got.
/// </summary>
public sealed class SilentGuestTests
{
    private const string Wedged = "vCPU 0 running in the kernel at ffffffff81c01199; vCPU 1 running in the kernel at ffffffff81c013c0";

    [Fact]
    public async Task A_guest_that_never_answers_is_booted_again_and_the_sandbox_says_so()
    {
        await using var daemon = new DaemonHarness(o => o with { LaunchTimeout = TimeSpan.FromMilliseconds(400) });
        daemon.Backend.NextGuests.Enqueue((GuestMode.Raw, Wedged)); // silent; the next VM's guest answers

        var sandbox = await daemon.CreateAsync().WaitAsync(Waits.Bound);

        var first = daemon.Backend.Vms[0];
        Assert.Equal(SandboxStatus.Ready, sandbox.Status);
        Assert.Equal("cold boot: its first boot was stopped and booted again: the guest agent did not answer within 0.2 s; vCPUs: " + Wedged + "; console: fake VM " + sandbox.Id + " booting |", sandbox.StatusMessage);
        Assert.Equal(["prepare", "wedged boot", "vm", "agent"], sandbox.BootPhases.Select(p => p.Name));
        await first.Disposed.WaitAsync(Waits.Bound);
        Assert.Equal(2, daemon.Backend.Vms.Count);
    }

    [Fact]
    public async Task A_second_silent_boot_fails_the_create_with_its_vcpus_and_its_console_and_leaves_nothing()
    {
        await using var daemon = new DaemonHarness(o => o with { LaunchTimeout = TimeSpan.FromMilliseconds(400) });
        daemon.Backend.NextGuests.Enqueue((GuestMode.Raw, null));
        daemon.Backend.NextGuests.Enqueue((GuestMode.Raw, Wedged));

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => daemon.CreateAsync().WaitAsync(Waits.Bound));

        Assert.Contains("the guest agent did not answer within 0.2 s; vCPUs: " + Wedged + "; console: fake VM ", failure.Message, StringComparison.Ordinal);
        var sandbox = Assert.Single(daemon.Store.ListSandboxes(terminalToo: true, clientKey: null, limit: 10));
        await daemon.WaitReleasedAsync(sandbox.Id);
        daemon.AssertNothingLeftOf(sandbox.Id);
        Assert.Equal(2, daemon.Backend.Vms.Count);
        Assert.All(daemon.Backend.Vms, vm => Assert.True(vm.IsDisposed));
    }
}
