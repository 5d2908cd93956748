using Cleanroom.Vm.Boot;

namespace Cleanroom.Vm.Tests.Unit;

public sealed class KernelCommandLineTests
{
    private const string Fast =
        "quiet i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd 8250.nr_uarts=1 mitigations=off nokaslr cryptomgr.notests "
        + "random.trust_cpu=on no_timer_check audit=0 apparmor=0 ima_appraise=off";

    [Fact]
    public void Builds_the_full_line_with_the_host_tsc()
    {
        Assert.Equal(
            $"console=ttyS0 reboot=t panic=-1 tsc_early_khz=2596134 tsc=reliable {Fast} cleanroom.agent_port=cleanroom.agent",
            KernelCommandLine.Build(2596134));
    }

    [Fact]
    public void Leaves_out_the_tsc_arguments_when_the_frequency_is_unknown()
    {
        Assert.Equal(
            $"console=ttyS0 reboot=t panic=-1 {Fast} cleanroom.agent_port=cleanroom.agent",
            KernelCommandLine.Build(null));
    }

    [Fact]
    public void Presets_the_delay_loop_from_the_tsc_rate_and_the_kernel_tick_rate()
    {
        // What the guest's boot CPU logged for itself ("value calculated using timer frequency.. lpj=10384408").
        Assert.Contains(" tsc=reliable lpj=10384408 ", KernelCommandLine.Build(2596102, kernelHz: 250), StringComparison.Ordinal);
        Assert.Contains(" lpj=2596102 ", KernelCommandLine.Build(2596102, kernelHz: 1000), StringComparison.Ordinal);

        // Either rate unknown: every CPU calibrates as before.
        Assert.DoesNotContain("lpj=", KernelCommandLine.Build(2596102), StringComparison.Ordinal);
        Assert.DoesNotContain("lpj=", KernelCommandLine.Build(null, kernelHz: 250), StringComparison.Ordinal);
    }

    [Fact]
    public void Probe_mode_and_extra_arguments_come_last()
    {
        var line = KernelCommandLine.Build(1000, probe: true, extraArgs: ["cleanroom.ip=10.0.0.2/24", "loglevel=7"]);
        Assert.EndsWith("cleanroom.agent_port=cleanroom.agent cleanroom.probe=1 cleanroom.ip=10.0.0.2/24 loglevel=7", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("two words")]
    [InlineData("")]
    [InlineData("quote=\"x\"")]
    [InlineData("nl=a\nb")]
    public void Rejects_arguments_that_are_not_one_token(string bad)
    {
        var ex = Assert.Throws<ArgumentException>(() => KernelCommandLine.Build(null, extraArgs: [bad]));
        Assert.Contains("single token", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_a_line_longer_than_the_kernel_accepts()
    {
        var ex = Assert.Throws<ArgumentException>(() => KernelCommandLine.Build(null, extraArgs: [new string('x', 2100)]));
        Assert.Contains("2047", ex.Message, StringComparison.Ordinal);
    }
}
