using Cleanroom.GuestAgent.Init;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>Init stops the PIT only when sysfs shows that no clock event device of the kernel is the PIT.</summary>
public sealed class LegacyPitTimerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cr-clockevents-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Local_apic_ticks_and_no_broadcast_device_let_it_stop()
    {
        Device("clockevent0", "lapic\n");
        Device("clockevent1", "lapic\n");
        Device("broadcast", "\n");

        Assert.Null(LegacyPitTimer.WhyKeep(_root));
    }

    [Fact]
    public void A_pit_tick_or_broadcast_device_keeps_it_running()
    {
        Device("clockevent0", "lapic\n");
        Device("broadcast", "pit\n");

        Assert.Equal("it is the clock event device of broadcast", LegacyPitTimer.WhyKeep(_root));
    }

    [Fact]
    public void Without_anything_to_tell_from_it_keeps_running()
    {
        Assert.Contains("lists no clock event devices", LegacyPitTimer.WhyKeep(_root), StringComparison.Ordinal);
        Assert.Contains("is missing", LegacyPitTimer.WhyKeep(Path.Combine(_root, "absent")), StringComparison.Ordinal);
    }

    private void Device(string name, string current)
    {
        var directory = Directory.CreateDirectory(Path.Combine(_root, name));
        File.WriteAllText(Path.Combine(directory.FullName, "current_device"), current);
    }
}
