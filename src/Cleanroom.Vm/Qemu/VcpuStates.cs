using System.Text;
using System.Text.RegularExpressions;

namespace Cleanroom.Vm.Qemu;

/// <summary>
/// What each vCPU of a QEMU VM is doing, from its monitor's <c>info registers -a</c>: halted or running, in the kernel
/// or in user space, and where. Said of a guest that does not answer: every vCPU halted is a guest waiting (a program
/// stuck in user space, or a task blocked in the kernel), a vCPU running in the kernel is a kernel that spins. With no
/// KASLR in the guest (<c>nokaslr</c>), a kernel address can be looked up in the kernel's symbols afterwards.
/// </summary>
internal static partial class VcpuStates
{
    /// <summary>More vCPUs than this are summed up as a count: the line is for a person.</summary>
    internal const int MaxListed = 8;

    /// <summary>"vCPU 0 halted in the kernel at ffffffff81a17a0b; vCPU 1 running in user space at 00007f3c2a1b4c10".</summary>
    public static string Summarize(string registers)
    {
        var states = new List<string>();
        var cpu = -1;
        var total = 0;
        foreach (var line in registers.AsSpan().EnumerateLines())
        {
            if (CpuHeader().Match(line.ToString()) is { Success: true } header)
            {
                cpu = int.Parse(header.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture);
                continue;
            }

            if (cpu < 0 || InstructionLine().Match(line.ToString()) is not { Success: true } rip)
            {
                continue;
            }

            total++;
            if (states.Count < MaxListed)
            {
                var where = rip.Groups[2].ValueSpan is "0" ? "the kernel" : "user space";
                var what = rip.Groups[3].ValueSpan is "1" ? "halted" : "running";
                states.Add($"vCPU {cpu} {what} in {where} at {rip.Groups[1].Value}");
            }

            cpu = -1;
        }

        if (total == 0)
        {
            return "no vCPU state in QEMU's answer";
        }

        var summary = new StringBuilder(string.Join("; ", states));
        if (total > states.Count)
        {
            summary.Append(System.Globalization.CultureInfo.InvariantCulture, $"; and {total - states.Count} more");
        }

        return summary.ToString();
    }

    [GeneratedRegex(@"^CPU#(\d{1,4})\s*$")]
    private static partial Regex CpuHeader();

    // "RIP=ffffffff81a17a0b RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1"
    [GeneratedRegex(@"^RIP=([0-9a-f]{16}) .*\bCPL=([0-3]) .*\bHLT=([01])\b")]
    private static partial Regex InstructionLine();
}
