using System.Globalization;

namespace Cleanroom.Vm.Boot;

/// <summary>
/// Builds the guest kernel command line. Pure: the same inputs give the same string, so it is tested as a value.
/// The guest agent reads the <c>cleanroom.*</c> keys.
/// </summary>
public static class KernelCommandLine
{
    /// <summary>Name of the virtio-serial port the agent opens (/sys/class/virtio-ports/*/name).</summary>
    public const string AgentPortName = "cleanroom.agent";

    /// <summary>Asks the agent to print <see cref="ProbeMarker"/> on ttyS0 and power off: the KVM probe.</summary>
    public const string ProbeArg = "cleanroom.probe=1";

    /// <summary>Line the agent prints on the serial console in probe mode once userspace runs.</summary>
    public const string ProbeMarker = "CLEANROOM-PROBE-OK";

    /// <summary>x86 COMMAND_LINE_SIZE is 2048 including the terminating NUL.</summary>
    public const int MaxLength = 2047;

    /// <summary>
    /// Serial console; on a guest reboot or panic the kernel resets via the triple-fault method, which QEMU's
    /// -no-reboot turns into a prompt exit (panic=-1 = immediately).
    /// </summary>
    public static readonly IReadOnlyList<string> BaseArgs = ["console=ttyS0", "reboot=t", "panic=-1"];

    /// <summary>
    /// Boot-time savers measured in ENVIRONMENT.md §2.4 (2.16 s → 1.83 s under TCG): no legacy keyboard/mouse probing,
    /// one UART, no mitigations or KASLR (the VM is single-tenant and short-lived), no crypto self-tests, trust
    /// the CPU RNG, skip timer checks, no audit/LSM/IMA work.
    /// </summary>
    public static readonly IReadOnlyList<string> FastArgs =
    [
        "quiet", "i8042.noaux", "i8042.nomux", "i8042.nopnp", "i8042.dumbkbd", "8250.nr_uarts=1", "mitigations=off",
        "nokaslr", "cryptomgr.notests", "random.trust_cpu=on", "no_timer_check", "audit=0", "apparmor=0",
        "ima_appraise=off",
    ];

    /// <param name="tscKhz">Host TSC frequency; when null the TSC arguments are left out (see <see cref="HostTsc"/>).</param>
    /// <param name="probe">Boot in probe mode (see <see cref="ProbeArg"/>).</param>
    /// <param name="extraArgs">Appended last, so they win over defaults; each must be one whitespace-free token.</param>
    /// <param name="kernelHz">The kernel's CONFIG_HZ, when known: with the TSC rate it gives <c>lpj</c>.</param>
    public static string Build(long? tscKhz, bool probe = false, IReadOnlyList<string>? extraArgs = null, int? kernelHz = null)
    {
        var args = new List<string>(BaseArgs);
        if (tscKhz is { } khz)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(khz, nameof(tscKhz));
            args.Add("tsc_early_khz=" + khz.ToString(CultureInfo.InvariantCulture));
            args.Add("tsc=reliable");
            if (kernelHz is { } hz)
            {
                ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hz, nameof(kernelHz));
                args.Add("lpj=" + LoopsPerJiffy(khz, hz).ToString(CultureInfo.InvariantCulture));
            }
        }

        args.AddRange(FastArgs);
        args.Add("cleanroom.agent_port=" + AgentPortName);
        if (probe)
        {
            args.Add(ProbeArg);
        }

        foreach (var extra in extraArgs ?? [])
        {
            ValidateToken(extra);
            args.Add(extra);
        }

        var line = string.Join(' ', args);
        if (line.Length > MaxLength)
        {
            throw new ArgumentException($"Kernel command line is {line.Length} characters; the limit is {MaxLength}.", nameof(extraArgs));
        }

        return line;
    }

    /// <summary>
    /// The delay loop's calibration, preset: TSC cycles per jiffy, the value the boot CPU derives from the TSC rate
    /// itself ("Calibrating delay loop (skipped), value calculated using timer frequency"). The other vCPUs measure it
    /// instead, because a TCG CPU does not claim a constant TSC: under TCG that took about 80 ms of every cold boot (the
    /// second vCPU came up in 97 ms, with the preset in 18; interleaved raw boots). On x86 the kernel's delays count TSC
    /// cycles, so the preset is the right value on every CPU whenever the TSC rate is.
    /// </summary>
    public static long LoopsPerJiffy(long tscKhz, int kernelHz) => tscKhz * 1000 / kernelHz;

    private static void ValidateToken(string token)
    {
        // One token per argument: whitespace would split it, quotes change kernel parsing, and control characters
        // have no business on a command line.
        if (string.IsNullOrEmpty(token) || token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == '"'))
        {
            throw new ArgumentException($"Kernel argument '{token}' must be a single token without whitespace, quotes or control characters.", nameof(token));
        }
    }
}
