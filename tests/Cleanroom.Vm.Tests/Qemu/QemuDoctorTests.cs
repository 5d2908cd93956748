using Cleanroom.Vm.Doctor;
using Cleanroom.Vm.Qemu;
using Cleanroom.Vm.Tests.Support;

namespace Cleanroom.Vm.Tests.Qemu;

[Collection(SerialQemuTests.Name)]
public sealed class QemuDoctorTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [QemuFact]
    public async Task Reports_every_check_with_missing_assets_failing_by_name()
    {
        var checks = await QemuDoctor.RunAsync(new QemuBackendOptions { Accel = AccelMode.Auto }, _dir.Path, CancellationToken.None);

        Assert.Equal(
            ["qemu_binary", "qemu_img", "kernel_image", "initramfs", "base_image", "host_tsc", "kvm", "tcg", "mkfs_ext4", "vm_uids", "qemu_sandbox", "cgroups", "mount_namespace"],
            checks.Select(c => c.Name));
        var byName = checks.ToDictionary(c => c.Name);
        Assert.Equal(CheckStatus.Pass, byName["qemu_binary"].Status);
        Assert.Contains("version 7.", byName["qemu_binary"].Message, StringComparison.Ordinal);
        Assert.Equal(CheckStatus.Pass, byName["qemu_img"].Status);
        Assert.Equal(CheckStatus.Fail, byName["kernel_image"].Status);
        Assert.Contains("scripts/setup.sh", byName["kernel_image"].Message, StringComparison.Ordinal);
        Assert.Equal(CheckStatus.Warn, byName["kvm"].Status);
        Assert.Equal("not probed: the kernel or initramfs asset is missing or invalid", byName["kvm"].Message);
        Assert.Equal(CheckStatus.Pass, byName["tcg"].Status);
        Assert.Equal(CheckStatus.Pass, byName["qemu_sandbox"].Status);
        Assert.Contains("spawn=deny", byName["qemu_sandbox"].Message, StringComparison.Ordinal);
    }

    [RootQemuFact]
    public async Task As_root_reports_the_uid_range_cgroups_and_mount_namespace_vms_get()
    {
        var options = new QemuBackendOptions { Accel = AccelMode.Tcg, FirstVmUid = 1_950_000_000, VmUidCount = 10 };
        var checks = (await QemuDoctor.RunAsync(options, _dir.Path, CancellationToken.None)).ToDictionary(c => c.Name);

        Assert.Equal(new DoctorCheck("vm_uids", CheckStatus.Pass, "uids 1950000000-1950000009 (10 VMs at once), each VM its own uid and gid, no groups, no capabilities"), checks["vm_uids"]);
        Assert.Equal(CheckStatus.Pass, checks["mount_namespace"].Status);
        var host = Cleanroom.Vm.Qemu.Confinement.CgroupHost.Detect();
        if (host.Version == Cleanroom.Vm.Qemu.Confinement.CgroupVersion.None)
        {
            Assert.Equal(CheckStatus.Warn, checks["cgroups"].Status);
        }
        else
        {
            Assert.Equal(CheckStatus.Pass, checks["cgroups"].Status);
            Assert.StartsWith(host.Version == Cleanroom.Vm.Qemu.Confinement.CgroupVersion.V1 ? "v1 " : "v2 ", checks["cgroups"].Message, StringComparison.Ordinal);
            Assert.EndsWith("per VM: memory = guest + 256 MiB (+ 256 MiB translation cache under TCG), at most 256 tasks", checks["cgroups"].Message, StringComparison.Ordinal);
        }
    }

    [RootQemuFact]
    public async Task A_uid_range_that_overlaps_existing_users_is_flagged()
    {
        var checks = (await QemuDoctor.RunAsync(new QemuBackendOptions { Accel = AccelMode.Tcg, FirstVmUid = 1, VmUidCount = 10 }, _dir.Path, CancellationToken.None))
            .ToDictionary(c => c.Name);

        Assert.Equal(CheckStatus.Warn, checks["vm_uids"].Status);
        Assert.Contains("/etc/passwd has", checks["vm_uids"].Message, StringComparison.Ordinal);
    }

    [QemuFact]
    public async Task A_missing_qemu_fails_its_check_and_explains_the_skipped_ones()
    {
        var options = new QemuBackendOptions { QemuPath = _dir.Combine("no-qemu"), Accel = AccelMode.Kvm, TscKhz = 1000 };
        var checks = (await QemuDoctor.RunAsync(options, _dir.Path, CancellationToken.None)).ToDictionary(c => c.Name);

        Assert.Equal(CheckStatus.Fail, checks["qemu_binary"].Status);
        Assert.Contains("no-qemu", checks["qemu_binary"].Message, StringComparison.Ordinal);
        Assert.Equal(CheckStatus.Fail, checks["kvm"].Status); // KVM was demanded explicitly
        Assert.Equal(CheckStatus.Fail, checks["tcg"].Status);
        Assert.Equal(new DoctorCheck("host_tsc", CheckStatus.Pass, "1000 kHz (from configuration); passed to guests as tsc_early_khz"), checks["host_tsc"]);
    }
}
