using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Cleanroom.HostProcesses;
using Cleanroom.Vm.Boot;
using Cleanroom.Vm.Qemu.Confinement;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// Decides between KVM and TCG. /dev/kvm being openable is not enough: on nested paravirtual KVM (like the
/// development machine) `-cpu host` aborts with "failed to set MSR 0x10a" and other CPU models hang in early boot.
/// So <see cref="AccelMode.Auto"/> boots the real kernel and initramfs under KVM with <c>cleanroom.probe=1</c> and
/// uses KVM only if the agent prints <see cref="KernelCommandLine.ProbeMarker"/> on the console in time.
/// The probe result is cached per process, keyed by <see cref="AccelProbeRequest"/>.
/// </summary>
public static class AccelProbe
{
    private const int StderrTailBytes = 16 * 1024;
    private const int ConsoleTailBytes = 16 * 1024;
    private const int MaxDetailLength = 200;

    /// <summary>The decision for an explicit TCG configuration.</summary>
    public static readonly AccelDecision TcgRequested = new(AccelMode.Tcg, "TCG requested in configuration; KVM not probed");

    private static readonly ConcurrentDictionary<AccelProbeRequest, Lazy<Task<KvmProbeResult>>> Cache = new();

    /// <summary>
    /// Resolves <paramref name="requested"/>: TCG never probes; KVM and Auto probe once per process. Explicit KVM
    /// throws <see cref="VmException"/> with the reason when KVM does not work.
    /// </summary>
    public static async Task<AccelDecision> ResolveAsync(AccelMode requested, AccelProbeRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (requested == AccelMode.Tcg)
        {
            return TcgRequested;
        }

        var probe = await ProbeKvmAsync(request, ct);
        return (requested, probe.Usable) switch
        {
            (AccelMode.Auto, true) => new AccelDecision(AccelMode.Kvm, $"KVM probe: {probe.Detail}; using KVM", probe.Elapsed),
            (AccelMode.Auto, false) => new AccelDecision(AccelMode.Tcg, $"KVM probe: {probe.Detail}; using TCG", probe.Elapsed),
            (AccelMode.Kvm, true) => new AccelDecision(AccelMode.Kvm, $"KVM requested; probe: {probe.Detail}", probe.Elapsed),
            _ => throw new VmException($"KVM was requested but does not work on this host: {probe.Detail}. Set the accelerator to auto (falls back to TCG) or tcg."),
        };
    }

    /// <summary>
    /// Cached probe. The probe itself runs to completion (at most the timeout) even if this caller gives up, so a
    /// cancelled caller does not poison the cache and the next caller gets the finished answer.
    /// </summary>
    internal static Task<KvmProbeResult> ProbeKvmAsync(AccelProbeRequest request, CancellationToken ct) =>
        Cache.GetOrAdd(request, r => new Lazy<Task<KvmProbeResult>>(() => RunProbeAsync(r))).Value.WaitAsync(ct);

    /// <summary>One uncached probe boot.</summary>
    internal static async Task<KvmProbeResult> RunProbeAsync(AccelProbeRequest request)
    {
        if (KvmDevice.ProblemOpening(request.KvmDevicePath) is { } problem)
        {
            return new KvmProbeResult(false, problem, TimeSpan.Zero);
        }

        var cmdline = KernelCommandLine.Build(request.TscKhz, probe: true);
        var argv = QemuCommandLine.Build(QemuLaunchConfig.ForProbe(request.Assets, AccelMode.Kvm, cmdline));
        var stopwatch = Stopwatch.StartNew();
        QemuProcess process;
        try
        {
            // The probe boots only our own kernel and initramfs, with no disk and no guest workload; it gets the
            // seccomp sandbox, no_new_privs and an empty environment but keeps the daemon's user (see architecture.md).
            process = QemuProcess.Start(
                QemuLauncher.Build(request.QemuPath, argv, QemuConfinement.Minimal),
                new StreamCapture(ConsoleTailBytes, marker: KernelCommandLine.ProbeMarker),
                new StreamCapture(StderrTailBytes));
        }
        catch (VmException ex)
        {
            return new KvmProbeResult(false, ex.Message, stopwatch.Elapsed);
        }

        await using (process)
        {
            var timeout = Task.Delay(request.Timeout);
            var first = await Task.WhenAny(process.Console.MarkerSeen, process.Exited, timeout);
            var elapsed = stopwatch.Elapsed;

            if (first == process.Console.MarkerSeen)
            {
                // The guest powers itself off right after the marker; give it a moment, then make sure.
                if (!await process.WaitForExitAsync(TimeSpan.FromSeconds(1), CancellationToken.None))
                {
                    process.Kill();
                }

                return new KvmProbeResult(true, $"guest reached userspace in {Seconds(elapsed)}", elapsed);
            }

            if (first == process.Exited)
            {
                var code = await process.Exited;

                // Output printed in the same instant as the exit may have raced the marker check.
                if (process.Console.MarkerSeen.IsCompleted)
                {
                    return new KvmProbeResult(true, $"guest reached userspace in {Seconds(elapsed)}", elapsed);
                }

                return new KvmProbeResult(false, $"qemu exited with {ExitStatus.Describe(code)}{Because(process)}", elapsed);
            }

            process.Kill();
            return new KvmProbeResult(false, $"guest did not reach userspace within {Seconds(request.Timeout)}", elapsed);
        }
    }

    /// <summary>The most telling stderr line: the first one that says "error", else the last one.</summary>
    private static string Because(QemuProcess process)
    {
        var lines = process.Stderr.PrintableText().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = lines.FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)) ?? lines.LastOrDefault();
        if (line is null)
        {
            return string.Empty;
        }

        return $" ({(line.Length > MaxDetailLength ? line[..MaxDetailLength] + "…" : line)})";
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture) + " s";
}
