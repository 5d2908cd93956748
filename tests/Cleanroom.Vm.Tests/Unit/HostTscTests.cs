using Cleanroom.Vm.Boot;

namespace Cleanroom.Vm.Tests.Unit;

public sealed class HostTscTests
{
    private const string VmCpuInfo = """
        processor	: 0
        vendor_id	: AuthenticAMD
        model name	: AMD EPYC
        cpu MHz		: 2596.134
        flags		: fpu vme tsc msr constant_tsc rep_good nopl nonstop_tsc tsc_known_freq hypervisor

        processor	: 1
        cpu MHz		: 1.000
        flags		: fpu

        """;

    [Fact]
    public void Reads_cpu_mhz_of_the_first_processor_when_the_tsc_is_constant()
    {
        Assert.Equal(2596134, HostTsc.ParseCpuInfo(VmCpuInfo, cpufreqDriverLoaded: false));
    }

    [Theory]
    [InlineData("flags : fpu tsc constant_tsc", "no known/nonstop flag")]
    [InlineData("flags : fpu tsc nonstop_tsc tsc_known_freq", "no constant_tsc")]
    [InlineData("flags : constant_tsc nonstop_tsc aperfmperf", "cpu MHz is a measured core clock")]
    public void Ignores_cpu_mhz_when_it_may_not_be_the_tsc(string flags, string why)
    {
        Assert.True(HostTsc.ParseCpuInfo($"processor : 0\ncpu MHz : 2000.000\n{flags}\n", false) is null, why);
    }

    [Fact]
    public void Ignores_cpu_mhz_when_a_cpufreq_driver_scales_the_clock()
    {
        Assert.Null(HostTsc.ParseCpuInfo(VmCpuInfo, cpufreqDriverLoaded: true));
    }

    [Fact]
    public void Dmesg_detected_line()
    {
        Assert.Equal(1996249, HostTsc.ParseDmesg("[    0.000024] tsc: Detected 1996.249 MHz processor\n"));
    }

    [Fact]
    public void Dmesg_prefers_the_refined_calibration()
    {
        const string dmesg = """
            [    0.000000] tsc: Detected 2400.000 MHz processor
            [    1.234567] tsc: Refined TSC clocksource calibration: 2399.987 MHz
            """;
        Assert.Equal(2399987, HostTsc.ParseDmesg(dmesg));
    }

    [Fact]
    public void Dmesg_without_tsc_lines_gives_nothing()
    {
        Assert.Null(HostTsc.ParseDmesg("[    0.000000] Linux version 6.1.0\n"));
    }
}
