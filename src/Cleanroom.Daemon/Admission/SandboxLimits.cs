namespace Cleanroom.Daemon.Admission;

/// <summary>
/// Host-wide caps on sandbox resources: each sandbox's own, and the sum over every live sandbox. A policy comes from
/// a repository a pull request controls, so what it asks for is bounded here before any file or process exists.
/// </summary>
public sealed record SandboxLimits
{
    public required int MaxVcpus { get; init; }

    public required long MaxMemoryBytes { get; init; }

    public required long MaxDiskBytes { get; init; }

    public required int MaxTotalVcpus { get; init; }

    public required long MaxTotalMemoryBytes { get; init; }

    /// <summary>Bound on the sum of the root disks' virtual sizes (overlays grow up to it as guests write).</summary>
    public required long MaxTotalDiskBytes { get; init; }

    /// <summary>
    /// Defaults from this host's size: a sandbox may have every core and half the memory; all together four vCPUs per
    /// core (idle guests cost little) and three quarters of the memory; disks 64 GiB each and 256 GiB in all.
    /// </summary>
    public static SandboxLimits ForThisHost()
    {
        var cores = Environment.ProcessorCount;
        var memory = HostMemoryBytes();
        return new SandboxLimits
        {
            MaxVcpus = Math.Max(cores, 1),
            MaxMemoryBytes = memory / 2,
            MaxDiskBytes = 64L << 30,
            MaxTotalVcpus = Math.Max(cores, 1) * 4,
            MaxTotalMemoryBytes = memory / 4 * 3,
            MaxTotalDiskBytes = 256L << 30,
        };
    }

    private static long HostMemoryBytes()
    {
        var total = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return total > 0 ? total : 4L << 30;
    }
}
