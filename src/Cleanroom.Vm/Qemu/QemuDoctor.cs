using Cleanroom.HostProcesses;
using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Boot;
using Cleanroom.Vm.Doctor;
using Cleanroom.Vm.Qemu.Confinement;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// The QEMU backend's host checks for <c>cleanroom doctor</c>. Each check is independent and never throws: a
/// missing binary fails its own line and turns dependent lines into warnings that say why they were skipped.
/// </summary>
public static class QemuDoctor
{
    /// <summary>Names of the checks, stable for --json consumers.</summary>
    public static class Names
    {
        public const string QemuBinary = "qemu_binary";
        public const string QemuImg = "qemu_img";
        public const string Kernel = "kernel_image";
        public const string Initramfs = "initramfs";
        public const string BaseImage = "base_image";
        public const string HostTsc = "host_tsc";
        public const string Kvm = "kvm";
        public const string Tcg = "tcg";
        public const string MkfsExt4 = "mkfs_ext4";
        public const string VmUids = "vm_uids";
        public const string QemuSandbox = "qemu_sandbox";
        public const string Cgroups = "cgroups";
        public const string MountNamespace = "mount_namespace";
    }

    public static async Task<IReadOnlyList<DoctorCheck>> RunAsync(QemuBackendOptions options, string assetsDir, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        var checks = new List<DoctorCheck>();

        var (qemuCheck, qemuPath) = await CheckBinaryAsync(Names.QemuBinary, () => options.QemuPath ?? QemuBinary.Locate(), ct);
        checks.Add(qemuCheck);
        var (imgCheck, _) = await CheckBinaryAsync(Names.QemuImg, () => options.QemuImgPath ?? QemuBinary.LocateImg(qemuPath), ct);
        checks.Add(imgCheck);

        var assets = BootAssetsVerifier.Check(assetsDir);
        var names = new[] { Names.Kernel, Names.Initramfs, Names.BaseImage };
        checks.AddRange(assets.Select((a, i) => new DoctorCheck(names[i], a.Ok ? CheckStatus.Pass : CheckStatus.Fail, a.Message)));

        var tsc = options.TscKhz is { } configured ? new TscReading(configured, "configuration") : await HostTsc.DetectAsync(ct);
        checks.Add(tsc.Khz is { } khz
            ? new DoctorCheck(Names.HostTsc, CheckStatus.Pass, $"{khz} kHz (from {tsc.Source}); passed to guests as tsc_early_khz")
            : new DoctorCheck(Names.HostTsc, CheckStatus.Warn, $"unknown ({tsc.Source}); guests calibrate the TSC themselves and some TCG boots may hang"));

        var kvm = await CheckKvmAsync(options, qemuPath, assets, tsc.Khz, ct);
        checks.Add(kvm);
        checks.Add(await CheckTcgAsync(qemuPath, kvmUsable: kvm.Status == CheckStatus.Pass, ct));
        checks.Add(CheckMkfs());
        checks.AddRange(await ConfinementDoctor.RunAsync(options, qemuPath, Posix.IsRoot, ct));
        return checks;
    }

    private static async Task<(DoctorCheck Check, string? Path)> CheckBinaryAsync(string name, Func<string> locate, CancellationToken ct)
    {
        try
        {
            var path = locate();
            var version = await QemuBinary.GetVersionAsync(path, ct);
            return (new DoctorCheck(name, CheckStatus.Pass, $"{path}, version {version}"), path);
        }
        catch (Exception ex) when (ex is VmException or HostCommandException)
        {
            return (new DoctorCheck(name, CheckStatus.Fail, ex.Message), null);
        }
    }

    private static async Task<DoctorCheck> CheckKvmAsync(
        QemuBackendOptions options, string? qemuPath, IReadOnlyList<AssetCheck> assets, long? tscKhz, CancellationToken ct)
    {
        var missing = options.Accel == AccelMode.Kvm ? CheckStatus.Fail : CheckStatus.Warn;
        if (options.Accel == AccelMode.Tcg)
        {
            return new DoctorCheck(Names.Kvm, CheckStatus.Pass, "not used: the accelerator is configured as tcg");
        }

        if (qemuPath is null)
        {
            return new DoctorCheck(Names.Kvm, missing, "not probed: qemu-system-x86_64 is missing");
        }

        if (!assets[0].Ok || !assets[1].Ok)
        {
            return new DoctorCheck(Names.Kvm, missing, "not probed: the kernel or initramfs asset is missing or invalid");
        }

        var request = new AccelProbeRequest(qemuPath, BootAssets.FromDirectory(Path.GetDirectoryName(assets[0].Path)!), tscKhz)
        {
            KvmDevicePath = options.KvmDevicePath,
            Timeout = options.ProbeTimeout,
        };
        var probe = await AccelProbe.ProbeKvmAsync(request, ct);
        return probe.Usable
            ? new DoctorCheck(Names.Kvm, CheckStatus.Pass, $"usable: {probe.Detail}")
            : new DoctorCheck(Names.Kvm, missing, $"unusable: {probe.Detail}; VMs run under TCG (slower)");
    }

    private static async Task<DoctorCheck> CheckTcgAsync(string? qemuPath, bool kvmUsable, CancellationToken ct)
    {
        var missing = kvmUsable ? CheckStatus.Warn : CheckStatus.Fail;
        if (qemuPath is null)
        {
            return new DoctorCheck(Names.Tcg, missing, "not checked: qemu-system-x86_64 is missing");
        }

        try
        {
            var accelerators = await QemuBinary.GetAcceleratorsAsync(qemuPath, ct);
            return accelerators.Contains("tcg", StringComparer.Ordinal)
                ? new DoctorCheck(Names.Tcg, CheckStatus.Pass, "available (software emulation fallback)")
                : new DoctorCheck(Names.Tcg, missing, $"not compiled into {qemuPath} (has: {string.Join(", ", accelerators)})");
        }
        catch (HostCommandException ex)
        {
            return new DoctorCheck(Names.Tcg, missing, ex.Message);
        }
    }

    private static DoctorCheck CheckMkfs()
    {
        // Root's PATH has the sbin directories; a user's may not, but the daemon runs the tool by this path anyway.
        var path = ExecutableSearch.FindOnPath("mkfs.ext4", Environment.GetEnvironmentVariable("PATH") + ":/usr/sbin:/sbin");
        return path is null
            ? new DoctorCheck(Names.MkfsExt4, CheckStatus.Fail, "mkfs.ext4 not found; install e2fsprogs (needed to build root images)")
            : new DoctorCheck(Names.MkfsExt4, CheckStatus.Pass, path);
    }
}
