using System.Globalization;
using System.Text.RegularExpressions;
using Cleanroom.HostProcesses;

namespace Cleanroom.Vm.Boot;

/// <summary>
/// The host's TSC frequency in kHz. Under TCG the guest TSC is the host TSC, and on microvm (no HPET, no PM timer)
/// the guest cannot calibrate it reliably: without <c>tsc_early_khz</c> about one boot in four hangs
/// (ENVIRONMENT.md §2.1). A wrong value is worse than none (guest time runs at the wrong speed), so every source is
/// used only when it is known to report the TSC rather than the current core clock.
/// </summary>
public static partial class HostTsc
{
    /// <summary>
    /// Reads "cpu MHz" from the first processor in /proc/cpuinfo, but only when it reflects the TSC: the TSC must be
    /// constant (<c>constant_tsc</c> and <c>tsc_known_freq</c> or <c>nonstop_tsc</c>), and the kernel must not be
    /// reporting a measured core clock instead (it does when <c>aperfmperf</c> is present or a cpufreq driver is
    /// loaded, as on most bare-metal hosts). Returns null otherwise.
    /// </summary>
    public static long? ParseCpuInfo(string cpuInfo, bool cpufreqDriverLoaded)
    {
        string? mhz = null;
        HashSet<string>? flags = null;
        foreach (var rawLine in cpuInfo.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.Length == 0 && (mhz is not null || flags is not null))
            {
                break; // End of the first processor block.
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (key == "cpu MHz")
            {
                mhz = value;
            }
            else if (key == "flags")
            {
                flags = new HashSet<string>(value.Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
            }
        }

        if (mhz is null || flags is null || cpufreqDriverLoaded || flags.Contains("aperfmperf"))
        {
            return null;
        }

        var constant = flags.Contains("constant_tsc") && (flags.Contains("tsc_known_freq") || flags.Contains("nonstop_tsc"));
        return constant ? MhzToKhz(mhz) : null;
    }

    /// <summary>
    /// Reads the kernel's own TSC calibration from dmesg text: the last "tsc: Refined TSC clocksource calibration"
    /// if present (more precise), else "tsc: Detected N MHz processor". Returns null when neither is there.
    /// </summary>
    public static long? ParseDmesg(string dmesg)
    {
        var refined = RefinedLine().Matches(dmesg);
        if (refined.Count > 0)
        {
            return MhzToKhz(refined[^1].Groups["mhz"].Value);
        }

        var detected = DetectedLine().Match(dmesg);
        return detected.Success ? MhzToKhz(detected.Groups["mhz"].Value) : null;
    }

    /// <summary>Detects the TSC frequency on this host; <see cref="TscReading.Khz"/> is null when unknown.</summary>
    public static async Task<TscReading> DetectAsync(CancellationToken ct)
    {
        try
        {
            var cpuInfo = await File.ReadAllTextAsync("/proc/cpuinfo", ct);
            var cpufreq = Directory.Exists("/sys/devices/system/cpu/cpu0/cpufreq");
            if (ParseCpuInfo(cpuInfo, cpufreq) is { } fromCpuInfo)
            {
                return new TscReading(fromCpuInfo, "/proc/cpuinfo");
            }
        }
        catch (IOException)
        {
            // Fall through to dmesg.
        }

        try
        {
            var dmesg = await HostCommand.TryRunAsync("dmesg", [], TimeSpan.FromSeconds(5), ct);
            if (dmesg.ExitCode == 0 && ParseDmesg(dmesg.Stdout) is { } fromDmesg)
            {
                return new TscReading(fromDmesg, "dmesg");
            }

            return new TscReading(null, dmesg.ExitCode == 0 ? "no TSC line in dmesg" : "dmesg not readable");
        }
        catch (HostCommandException ex)
        {
            return new TscReading(null, ex.Message);
        }
    }

    private static long? MhzToKhz(string text) =>
        decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var mhz) && mhz > 0
            ? (long)Math.Round(mhz * 1000m)
            : null;

    [GeneratedRegex(@"tsc: Refined TSC clocksource calibration: (?<mhz>[0-9]+(\.[0-9]+)?) MHz")]
    private static partial Regex RefinedLine();

    [GeneratedRegex(@"tsc: Detected (?<mhz>[0-9]+(\.[0-9]+)?) MHz processor")]
    private static partial Regex DetectedLine();
}
