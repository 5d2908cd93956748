using Cleanroom.Daemon.Admission;

namespace Cleanroom.Daemon.Executions;

/// <summary>What an execution's output may take on the host: at most <paramref name="MaxBytes"/>, and nothing once the disk is below its reserve.</summary>
public sealed record OutputBudget(long MaxBytes, DiskReserve Disk)
{
    /// <summary>How often (in bytes written) the free space is read again.</summary>
    public const long DiskCheckInterval = 1 << 20;
}
