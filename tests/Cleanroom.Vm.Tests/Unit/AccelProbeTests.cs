using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Qemu;
using Cleanroom.Vm.Tests.Support;

namespace Cleanroom.Vm.Tests.Unit;

/// <summary>
/// The probe's decision logic, driven by fake qemu scripts that behave like the cases seen in the field. Each test
/// uses its own script path, so the per-process cache never mixes them.
/// </summary>
public sealed class AccelProbeTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly BootAssets _assets;

    public AccelProbeTests()
    {
        _assets = new BootAssets(_dir.WriteFile("vmlinux", "k"), _dir.WriteFile("initramfs.cpio.gz", "i"), _dir.WriteFile("base.ext4", "b"));
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Qemu_aborting_on_msr_falls_back_to_tcg_with_the_reason()
    {
        var qemu = _dir.WriteScript("qemu-abort", """
            echo 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69' >&2
            echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion failed." >&2
            kill -ABRT $$
            """);
        var decision = await AccelProbe.ResolveAsync(AccelMode.Auto, Request(qemu), CancellationToken.None);
        Assert.Equal(AccelMode.Tcg, decision.Mode);
        Assert.Equal("KVM probe: qemu exited with code 134 (SIGABRT) (qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69); using TCG", decision.Reason);
    }

    [Fact]
    public async Task A_guest_that_never_reaches_userspace_falls_back_after_the_timeout()
    {
        var qemu = _dir.WriteScript("qemu-hang", "echo 'Booting paravirtualized kernel on KVM'; exec sleep 30");
        var decision = await AccelProbe.ResolveAsync(AccelMode.Auto, Request(qemu) with { Timeout = TimeSpan.FromSeconds(1) }, CancellationToken.None);
        Assert.Equal(AccelMode.Tcg, decision.Mode);
        Assert.Equal("KVM probe: guest did not reach userspace within 1 s; using TCG", decision.Reason);
        Assert.InRange(decision.ProbeDuration, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task The_marker_on_the_console_means_kvm_works()
    {
        var argvFile = _dir.Combine("argv");
        var qemu = _dir.WriteScript("qemu-ok", $"""
            printf '%s\n' "$@" > {argvFile}
            printf 'Booting\r\nCLEANROOM-PROBE-OK\r\n'
            """);
        var decision = await AccelProbe.ResolveAsync(AccelMode.Auto, Request(qemu), CancellationToken.None);
        Assert.Equal(AccelMode.Kvm, decision.Mode);
        Assert.StartsWith("KVM probe: guest reached userspace in ", decision.Reason, StringComparison.Ordinal);

        var argv = string.Join(' ', File.ReadAllLines(argvFile));
        Assert.Contains("-accel kvm -cpu host", argv, StringComparison.Ordinal);
        Assert.Contains($"-kernel {_assets.KernelPath} -initrd {_assets.InitrdPath}", argv, StringComparison.Ordinal);
        Assert.Contains("cleanroom.probe=1", argv, StringComparison.Ordinal);
        Assert.Contains("tsc_early_khz=2000000", argv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_probe_runs_once_per_process()
    {
        var counter = _dir.Combine("count");
        var qemu = _dir.WriteScript("qemu-count", $"echo run >> {counter}; echo CLEANROOM-PROBE-OK");
        var request = Request(qemu);
        await AccelProbe.ResolveAsync(AccelMode.Auto, request, CancellationToken.None);
        await AccelProbe.ResolveAsync(AccelMode.Auto, request, CancellationToken.None);
        await AccelProbe.ResolveAsync(AccelMode.Kvm, request, CancellationToken.None);
        Assert.Single(File.ReadAllLines(counter));
    }

    [Fact]
    public async Task Explicit_kvm_fails_loudly_when_kvm_does_not_work()
    {
        var qemu = _dir.WriteScript("qemu-fail", "echo 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69' >&2; exit 1");
        var ex = await Assert.ThrowsAsync<VmException>(() => AccelProbe.ResolveAsync(AccelMode.Kvm, Request(qemu), CancellationToken.None));
        Assert.Contains("KVM was requested but does not work on this host: qemu exited with code 1 (qemu-system-x86_64: error: failed to set MSR", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tcg_never_probes()
    {
        var counter = _dir.Combine("count");
        var qemu = _dir.WriteScript("qemu-never", $"echo run >> {counter}");
        var decision = await AccelProbe.ResolveAsync(AccelMode.Tcg, Request(qemu), CancellationToken.None);
        Assert.Equal(AccelMode.Tcg, decision.Mode);
        Assert.False(File.Exists(counter));
    }

    [Fact]
    public async Task A_missing_kvm_device_skips_the_boot()
    {
        var qemu = _dir.WriteScript("qemu-unused", "exit 99");
        var decision = await AccelProbe.ResolveAsync(AccelMode.Auto, Request(qemu) with { KvmDevicePath = _dir.Combine("no-kvm") }, CancellationToken.None);
        Assert.Equal(AccelMode.Tcg, decision.Mode);
        Assert.Equal($"KVM probe: {_dir.Combine("no-kvm")} is not present (no KVM on this host, or the kvm module is not loaded); using TCG", decision.Reason);
        Assert.Equal(TimeSpan.Zero, decision.ProbeDuration);
    }

    // /dev/null stands in for an openable /dev/kvm: these tests are about what happens after the open.
    private AccelProbeRequest Request(string qemu) => new(qemu, _assets, TscKhz: 2000000) { KvmDevicePath = "/dev/null" };
}
