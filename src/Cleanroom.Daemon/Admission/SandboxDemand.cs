namespace Cleanroom.Daemon.Admission;

/// <summary>What one sandbox takes from the host: its vCPUs, memory and root disk (virtual size).</summary>
public sealed record SandboxDemand(int Vcpus, long MemoryBytes, long DiskBytes)
{
    public static SandboxDemand Sum(IEnumerable<SandboxDemand> demands) =>
        demands.Aggregate(new SandboxDemand(0, 0, 0), (a, b) => new SandboxDemand(a.Vcpus + b.Vcpus, a.MemoryBytes + b.MemoryBytes, a.DiskBytes + b.DiskBytes));
}
