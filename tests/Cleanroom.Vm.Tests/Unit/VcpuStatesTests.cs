using Cleanroom.Vm.Qemu;

namespace Cleanroom.Vm.Tests.Unit;

/// <summary>QEMU 7.2's <c>info registers -a</c> (trimmed from a real 2-vCPU TCG guest) read as one line a person can act on.</summary>
public sealed class VcpuStatesTests
{
    private const string TwoVcpus = """

        CPU#0
        RAX=000000000001ad40 RBX=0000000000000000 RCX=0000000000000000 RDX=4000000000000000
        RSI=0000000000000000 RDI=000000000000fedc RBP=ffffffff82a1aa40 RSP=ffffffff82a03e98
        RIP=ffffffff81a17a0b RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1
        ES =0000 0000000000000000 00000000 00000000
        CS =0010 0000000000000000 ffffffff 00a09b00 DPL=0 CS64 [-RA]
        YMM15=0000000000000000 0000000000000000 0000000000000000 0000000000000000

        CPU#1
        RAX=0000000000000001 RBX=00007ffd1c2e4a10 RCX=0000000000000000 RDX=0000000000000000
        RIP=00005581b3c2a4f7 RFL=00000202 [-------] CPL=3 II=0 A20=1 SMM=0 HLT=0
        ES =0000 0000000000000000 00000000 00000000

        """;

    [Fact]
    public void Names_each_vcpu_halted_or_running_in_the_kernel_or_user_space_and_where()
    {
        Assert.Equal(
            "vCPU 0 halted in the kernel at ffffffff81a17a0b; vCPU 1 running in user space at 00005581b3c2a4f7",
            VcpuStates.Summarize(TwoVcpus));
    }

    [Fact]
    public void Many_vcpus_are_counted_past_the_first_few()
    {
        var many = string.Concat(Enumerable.Range(0, 20).Select(i => $"CPU#{i}\nRIP=ffffffff81a17a0b RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1\n"));

        var summary = VcpuStates.Summarize(many);

        Assert.Equal(VcpuStates.MaxListed, summary.Split("; vCPU ").Length);
        Assert.EndsWith("; vCPU 7 halted in the kernel at ffffffff81a17a0b; and 12 more", summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("unknown command: 'info registers'")]
    [InlineData("RIP=ffffffff81a17a0b RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1")] // no CPU# header
    public void An_answer_without_vcpu_state_says_so(string answer)
    {
        Assert.Equal("no vCPU state in QEMU's answer", VcpuStates.Summarize(answer));
    }
}
