using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Stops channel 0 of the emulated i8254 PIT once the kernel has booted without needing it. The firmware leaves it
/// counting (an 18.2 Hz square wave). The guest's kernel keeps time with the TSC and each vCPU's local APIC; Linux 6.1
/// then leaves the PIT running (6.7 and later stop it themselves). Its interrupt is masked, so the guest never sees it,
/// but the emulator does the counting: QEMU's main loop woke at every edge, every 27 ms, 4 to 6 ms of host CPU per
/// second for an idle sandbox, about half of all it cost idle (QEMU's per-thread schedstat, one sandbox). Leaving the
/// PIT out of the machine (microvm's <c>pit=off</c>) saved the same but made every cold boot about 260 ms slower
/// (interleaved raw boots; the kernel's early boot used it), so the kernel boots with it and init stops it, as later
/// kernels do: mode 0 with a count of 0 gives one more edge, after which the emulator's timer stays off.
/// </summary>
internal static class LegacyPitTimer
{
    public const string ClockEventsDirectory = "/sys/devices/system/clockevents";

    /// <summary>Linux's name for the PIT's clock event device (<c>i8253_clockevent</c>).</summary>
    private const string PitDeviceName = "pit";

    private const ushort Channel0Port = 0x40;
    private const ushort ModeCommandPort = 0x43;
    private const nuint PortCount = 4;

    /// <summary>Channel 0, low byte then high byte, mode 0 (interrupt on terminal count), binary.</summary>
    private const byte Channel0Mode0 = 0x30;

    /// <summary>
    /// Stops the PIT unless a clock event device is the PIT (or that cannot be told). Returns what it did, for the boot
    /// log; a failure leaves the PIT running and says why.
    /// </summary>
    public static string StopIfUnused()
    {
        if (WhyKeep(ClockEventsDirectory) is { } reason)
        {
            return "PIT left running: " + reason;
        }

        if (PortIo.IoPerm(Channel0Port, PortCount, 1) != 0)
        {
            return "PIT left running: ioperm: " + Errno.DescribeLast();
        }

        try
        {
            PortIo.OutByte(ModeCommandPort, Channel0Mode0);
            PortIo.OutByte(Channel0Port, 0);
            PortIo.OutByte(Channel0Port, 0);
        }
        finally
        {
            // Taken back: this is a reused worker thread, and a process spawned from it would keep the access.
            _ = PortIo.IoPerm(Channel0Port, PortCount, 0);
        }

        return "PIT stopped";
    }

    /// <summary>
    /// Null when no clock event device (a CPU's tick device, or the broadcast one that wakes CPUs whose local timer
    /// stops when idle) is the PIT; otherwise why the PIT must keep running. Reads <paramref name="clockEvents"/>, the
    /// sysfs directory whose entries each have a <c>current_device</c> file.
    /// </summary>
    internal static string? WhyKeep(string clockEvents)
    {
        if (!Directory.Exists(clockEvents))
        {
            return $"{clockEvents} is missing, so whether the kernel uses it is unknown";
        }

        var devices = 0;
        foreach (var entry in Directory.EnumerateDirectories(clockEvents))
        {
            var current = Path.Combine(entry, "current_device");
            if (!File.Exists(current))
            {
                continue;
            }

            devices++;
            if (File.ReadAllText(current).Trim() == PitDeviceName)
            {
                return $"it is the clock event device of {Path.GetFileName(entry)}";
            }
        }

        return devices == 0 ? $"{clockEvents} lists no clock event devices, so whether the kernel uses it is unknown" : null;
    }
}
