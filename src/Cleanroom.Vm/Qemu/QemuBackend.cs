using Cleanroom.HostProcesses;
using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Boot;
using Cleanroom.Vm.Disks;
using Cleanroom.Vm.Doctor;
using Cleanroom.Vm.Qemu.Confinement;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// Runs sandboxes as QEMU microVMs, under KVM where it demonstrably works and TCG otherwise. Host facts (binary
/// paths, TSC frequency, the accelerator decision) are resolved once and reused for every VM.
/// </summary>
public sealed class QemuBackend : IVmBackend
{
    private readonly BootAssets _probeAssets;
    private readonly QemuBackendOptions _options;
    private readonly ILogger _logger;
    private readonly Lazy<Task<long?>> _tscKhz;
    private readonly QemuConfiner _confiner;

    /// <param name="probeAssets">Kernel and initramfs used for the KVM probe boot (normally the same as every VM's).</param>
    public QemuBackend(BootAssets probeAssets, QemuBackendOptions? options = null, ILogger<QemuBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(probeAssets);
        _probeAssets = probeAssets;
        _options = options ?? new QemuBackendOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _tscKhz = new Lazy<Task<long?>>(DetectTscAsync);
        _confiner = new QemuConfiner(_options, _logger, Posix.IsRoot);
    }

    public string Name => "qemu";

    public async Task<AccelDecision> ResolveAccelAsync(CancellationToken ct)
    {
        if (_options.Accel == AccelMode.Tcg)
        {
            return AccelProbe.TcgRequested;
        }

        var request = new AccelProbeRequest(QemuPath(), _probeAssets, await _tscKhz.Value.WaitAsync(ct))
        {
            KvmDevicePath = _options.KvmDevicePath,
            Timeout = _options.ProbeTimeout,
        };
        return await AccelProbe.ResolveAsync(_options.Accel, request, ct);
    }

    public async Task<IVm> StartAsync(VmSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var dir = new VmWorkDir(spec.WorkDir);
        dir.ValidateSocketPaths();

        var qemu = QemuPath();
        var qemuImg = _options.QemuImgPath ?? QemuBinary.LocateImg(qemu);
        var accel = await ResolveAccelAsync(ct);
        var cmdline = KernelCommandLine.Build(await _tscKhz.Value.WaitAsync(ct), extraArgs: spec.ExtraKernelArgs);
        var argv = QemuCommandLine.Build(QemuLaunchConfig.ForVm(spec, dir, accel.Mode, cmdline));

        var createdWorkDir = !Directory.Exists(dir.Path);
        Directory.CreateDirectory(dir.Path);

        // Leftovers of a crashed earlier run with this id would make qemu-img or QEMU's socket bind fail.
        dir.Clean(keepLogs: true, removeDirectoryIfEmpty: false);
        ConfinedVm? confinement = null;
        try
        {
            if (spec.RootDiskMinBytes is { } minBytes)
            {
                spec = spec with { RootImagePath = await GrownRootImage.PrepareAsync(spec.EffectiveRootImagePath, minBytes, dir.GrownRootImage, ct) };
            }

            await RootDisk.CreateOverlayAsync(qemuImg, spec.EffectiveRootImagePath, dir.RootDisk, ct);
            confinement = _confiner.Prepare(spec, dir, qemu, accel.Mode);
            var launch = QemuLauncher.Build(qemu, argv, confinement.Plan) with
            {
                WorkingDirectory = dir.Path,
                InheritedHandles = spec.Network is { } network ? [network.Tap] : [],
            };
            var vm = await QemuVm.LaunchAsync(launch, confinement, spec, dir, createdWorkDir, _options, _logger, ct);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.LogDebug("VM {Id} started: pid {Pid}, {Accel}.", spec.Id, vm.Pid, accel.Mode);
            }

            return vm;
        }
        catch
        {
            dir.Clean(spec.KeepLogs, removeDirectoryIfEmpty: createdWorkDir);
            confinement?.Dispose();
            throw;
        }
    }

    public Task ReapLeftoversAsync(string workRoot, CancellationToken ct) =>
        Task.Run(
            () =>
            {
                foreach (var stale in QemuLeftovers.KillStale(workRoot))
                {
                    _logger.LogWarning("QEMU left by an earlier daemon in {WorkDir} (pid {Pid}): {Note}", stale.WorkDir, stale.Pid, stale.Note);
                }
            },
            ct);

    public Task<IReadOnlyList<DoctorCheck>> RunDoctorChecksAsync(CancellationToken ct) =>
        QemuDoctor.RunAsync(_options, Path.GetDirectoryName(_probeAssets.KernelPath) ?? ".", ct);

    /// <summary>The cgroup hierarchy VMs are limited by (detected once).</summary>
    internal CgroupHost Cgroups => _confiner.Cgroups;

    private string QemuPath() => _options.QemuPath ?? QemuBinary.Locate();

    private async Task<long?> DetectTscAsync()
    {
        if (_options.TscKhz is { } configured)
        {
            return configured;
        }

        var reading = await HostTsc.DetectAsync(CancellationToken.None);
        if (reading.Khz is null)
        {
            _logger.LogWarning(
                "Host TSC frequency is unknown ({Source}); booting without tsc_early_khz. Under TCG on microvm some boots may hang in TSC calibration.",
                reading.Source);
        }

        return reading.Khz;
    }
}
