using System.Runtime.InteropServices;
using Cleanroom.HostProcesses;
using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Boot;
using Cleanroom.Vm.Disks;
using Cleanroom.Vm.Doctor;
using Cleanroom.Vm.Qemu.Confinement;
using Cleanroom.Vm.Templates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

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
    private readonly RootOverlays _overlays;

    /// <param name="probeAssets">Kernel and initramfs used for the KVM probe boot (normally the same as every VM's).</param>
    public QemuBackend(BootAssets probeAssets, QemuBackendOptions? options = null, ILogger<QemuBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(probeAssets);
        _probeAssets = probeAssets;
        _options = options ?? new QemuBackendOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _tscKhz = new Lazy<Task<long?>>(DetectTscAsync);
        _confiner = new QemuConfiner(_options, _logger, Posix.IsRoot);
        _overlays = new RootOverlays(() => _options.QemuImgPath ?? QemuBinary.LocateImg(QemuPath()));
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

    public bool SupportsTemplates => true;

    public async Task<IVm> StartAsync(VmSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (spec.Template is { } template && template.Mismatch(spec) is { } mismatch)
        {
            throw new VmException($"VM {spec.Id} cannot be restored from its template: {mismatch}.");
        }

        var accel = await ResolveAccelAsync(ct);
        var cmdline = spec.Template?.KernelCommandLine ?? await CommandLineAsync(spec, accel.Mode, ct);
        return await LaunchAsync(spec, accel.Mode, cmdline, templateBuild: null, ct);
    }

    public async Task<VmTemplate> BuildTemplateAsync(VmTemplateRequest request, Func<IVm, CancellationToken, Task> untilServing, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(untilServing);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("VM templates need Linux (memfd, /proc).");
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Directory.CreateDirectory(request.Directory);
        var placeholder = Path.Combine(request.Directory, "workspace.placeholder");
        SafeFileHandle? memory = null;
        try
        {
            if (request.Workspace)
            {
                // Any small disk will do: every clone attaches its own workspace and the agent re-reads the device.
                using (var file = File.Create(placeholder))
                {
                    file.SetLength(1024 * 1024);
                }

                File.SetUnixFileMode(placeholder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }

            var spec = request.ToSpec(placeholder);
            spec.Validate();
            memory = Memfd.Create("cleanroom-template-" + request.Id, (long)request.MemoryMiB << 20);
            var accel = await ResolveAccelAsync(ct);
            var cmdline = await CommandLineAsync(spec, accel.Mode, ct);
            var statePath = Path.Combine(request.Directory, "device.state");
            var overlayPath = Path.Combine(request.Directory, "root.qcow2");
            await using (var vm = (QemuVm)await LaunchAsync(spec, accel.Mode, cmdline, (memory, request.Network), ct))
            {
                await untilServing(vm, ct);
                var socket = new VmWorkDir(spec.WorkDir).MigrationSocket;
                await QemuMigration.SaveAsync(vm.Qmp, socket, vm.User, statePath, _options.StartTimeout, ct);
                await vm.StopAsync(_options.DisposeGrace, ct);

                // QEMU flushed the overlay when the migration completed and has exited: the file is final.
                File.Copy(new VmWorkDir(spec.WorkDir).RootDisk, overlayPath);
                File.SetUnixFileMode(overlayPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            // No process maps it writable any more: from here nothing can change the template's RAM.
            Memfd.Seal(memory);
            var template = new VmTemplate(request, Path.GetFullPath(request.Directory), memory, cmdline, System.Diagnostics.Stopwatch.GetElapsedTime(started));
            memory = null;
            return template;
        }
        catch
        {
            memory?.Dispose();
            TryDeleteDirectory(request.Directory);
            throw;
        }
    }

    private async Task<string> CommandLineAsync(VmSpec spec, AccelMode accel, CancellationToken ct) =>
        KernelCommandLine.Build(await _tscKhz.Value.WaitAsync(ct), extraArgs: [.. QemuCommandLine.KernelArgs(accel), .. spec.ExtraKernelArgs], kernelHz: spec.Assets.KernelHz);

    private async Task<IVm> LaunchAsync(VmSpec spec, AccelMode accel, string cmdline, (SafeFileHandle Memory, bool UnconnectedNic)? templateBuild, CancellationToken ct)
    {
        var dir = new VmWorkDir(spec.WorkDir);
        dir.ValidateSocketPaths();
        var qemu = QemuPath();
        var template = spec.Template;
        var config = QemuLaunchConfig.ForVm(spec, dir, accel, cmdline);
        if (templateBuild is var (buildMemory, unconnectedNic))
        {
            config = config with
            {
                MemoryFile = (MemfdPath(buildMemory), Shared: true),
                UnconnectedNicMac = unconnectedNic ? TemplateNicMac : null,
            };
        }
        else if (template is not null)
        {
            config = config with { MemoryFile = (MemfdPath(template.Memory), Shared: false), IncomingDeferred = true };
        }

        var argv = QemuCommandLine.Build(config);
        var createdWorkDir = !Directory.Exists(dir.Path);
        Directory.CreateDirectory(dir.Path);

        // Leftovers of a crashed earlier run with this id would make qemu-img or QEMU's socket bind fail.
        dir.Clean(keepLogs: true, removeDirectoryIfEmpty: false);
        ConfinedVm? confinement = null;
        SafeFileHandle? state = null;
        try
        {
            if (template is not null)
            {
                // The disk exactly as it was at the snapshot; a private copy because the guest writes to it.
                File.Copy(template.RootOverlayPath, dir.RootDisk);
                state = File.OpenHandle(template.StatePath, FileMode.Open, FileAccess.Read);
            }
            else
            {
                if (spec.RootDiskMinBytes is { } minBytes)
                {
                    spec = spec with { RootImagePath = await GrownRootImage.PrepareAsync(spec.EffectiveRootImagePath, minBytes, dir.GrownRootImage, ct) };
                }

                // A grown root is this VM's own copy: nothing to reuse its overlay for.
                await _overlays.CreateAsync(spec.EffectiveRootImagePath, dir.RootDisk, reusable: spec.RootDiskMinBytes is null, ct);
            }

            confinement = _confiner.Prepare(spec, dir, qemu, accel);
            var plan = templateBuild is not null || template is not null ? confinement.Plan with { OwnProcessesProc = true } : confinement.Plan;
            List<SafeHandle> inherited = [];
            if (spec.Network is { } network)
            {
                inherited.Add(network.Tap);
            }

            if (templateBuild is var (memory, _))
            {
                inherited.Add(memory);
            }

            if (template is not null)
            {
                inherited.AddRange([template.Memory, state!]);
            }

            var launch = QemuLauncher.Build(qemu, argv, plan) with { WorkingDirectory = dir.Path, InheritedHandles = inherited };
            var vm = await QemuVm.LaunchAsync(launch, confinement, spec, dir, createdWorkDir, _options, _logger, ct);
            if (template is not null)
            {
                try
                {
                    await QemuMigration.RestoreAsync(vm.Qmp, state!.DangerousGetHandle().ToInt32(), vm.Exited, _options.StartTimeout, ct);
                }
                catch
                {
                    await vm.DisposeAsync();
                    throw;
                }
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.LogDebug("VM {Id} started: pid {Pid}, {Accel}, {How}.", spec.Id, vm.Pid, accel, template is null ? "cold" : "from a template");
            }

            return vm;
        }
        catch
        {
            dir.Clean(spec.KeepLogs, removeDirectoryIfEmpty: createdWorkDir);
            confinement?.Dispose();
            throw;
        }
        finally
        {
            // QEMU holds its own copy of the state descriptor from the moment it started.
            state?.Dispose();
        }
    }

    /// <summary>The template VM's card; the agent gives each clone's card the clone's own MAC.</summary>
    private const string TemplateNicMac = "02:00:00:00:00:fe";

    private static string MemfdPath(SafeFileHandle memory) =>
        "/proc/self/fd/" + memory.DangerousGetHandle().ToInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public bool SupportsAdoption => OperatingSystem.IsLinux();

    public async Task<IVm> AdoptAsync(VmSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var dir = new VmWorkDir(Path.GetFullPath(spec.WorkDir));
        if (QemuLeftovers.FindRunning(dir.Path, out var whyNot) is not { } pid)
        {
            throw new VmException($"VM {spec.Id} is gone: {whyNot}.");
        }

        var handle = ProcessHandle.TryOpen(pid) ?? throw new VmException($"VM {spec.Id} is gone: its QEMU (pid {pid}) exited.");

        // Checked again now that the handle pins the process: the pid cannot have been reused from here on.
        if (QemuLeftovers.FindRunning(dir.Path, out whyNot) != pid)
        {
            handle.Dispose();
            throw new VmException($"VM {spec.Id} is gone: {whyNot}.");
        }

        ConfinedVm? confinement = null;
        try
        {
            confinement = _confiner.Adopt(spec.Id, pid);
            var vm = await QemuVm.AdoptAsync(handle, confinement, spec, dir, _options, _logger, ct);
            _logger.LogInformation("VM {Id}: took over QEMU pid {Pid} from an earlier daemon.", spec.Id, pid);
            return vm;
        }
        catch
        {
            // A VM that cannot be controlled is not left running: nobody would own it.
            handle.TrySignal(Posix.SigKill);
            handle.WaitForExit(TimeSpan.FromSeconds(5));
            handle.Dispose();
            confinement?.Release();
            throw;
        }
    }

    public Task ReapLeftoversAsync(string workRoot, IReadOnlySet<string> adopted, CancellationToken ct) =>
        Task.Run(
            () =>
            {
                foreach (var stale in QemuLeftovers.KillStale(workRoot, adopted))
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
