using Grpc.Core;

namespace Cleanroom.Daemon.Admission;

/// <summary>
/// Decides whether a new sandbox fits: its own demand against the per-sandbox caps, the sum with every live sandbox
/// against the totals, and the state file system against its free-space reserve. Pure apart from the disk reading,
/// and run before the daemon creates any record, file or process for the sandbox.
/// </summary>
public sealed class AdmissionControl(SandboxLimits limits, DiskReserve disk)
{
    public SandboxLimits Limits => limits;

    /// <summary>Throws <see cref="DaemonException"/> (resource_limit_exceeded or host_disk_low) naming what does not fit.</summary>
    public void Admit(SandboxDemand demand, IEnumerable<SandboxDemand> live)
    {
        Require(demand.Vcpus <= limits.MaxVcpus, $"{demand.Vcpus} vCPUs asked; a sandbox may have at most {limits.MaxVcpus} on this host");
        Require(demand.MemoryBytes <= limits.MaxMemoryBytes, $"{Size(demand.MemoryBytes)} of memory asked; a sandbox may have at most {Size(limits.MaxMemoryBytes)} on this host");
        Require(demand.DiskBytes <= limits.MaxDiskBytes, $"a {Size(demand.DiskBytes)} disk asked; a sandbox may have at most {Size(limits.MaxDiskBytes)} on this host");

        var used = SandboxDemand.Sum(live);
        Require(used.Vcpus + demand.Vcpus <= limits.MaxTotalVcpus, $"{demand.Vcpus} more vCPUs would exceed the host's total of {limits.MaxTotalVcpus} ({used.Vcpus} in use)");
        Require(used.MemoryBytes + demand.MemoryBytes <= limits.MaxTotalMemoryBytes, $"{Size(demand.MemoryBytes)} more memory would exceed the host's total of {Size(limits.MaxTotalMemoryBytes)} ({Size(used.MemoryBytes)} in use)");
        Require(used.DiskBytes + demand.DiskBytes <= limits.MaxTotalDiskBytes, $"a {Size(demand.DiskBytes)} disk more would exceed the host's total of {Size(limits.MaxTotalDiskBytes)} ({Size(used.DiskBytes)} in use)");
        disk.EnsureAvailable("new sandboxes");
    }

    private static void Require(bool fits, string problem)
    {
        if (!fits)
        {
            throw new DaemonException(StatusCode.ResourceExhausted, ReasonCode.ResourceLimitExceeded, problem);
        }
    }

    private static string Size(long bytes) => HumanSize.Format(bytes);
}
