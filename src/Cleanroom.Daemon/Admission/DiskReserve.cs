using Grpc.Core;

namespace Cleanroom.Daemon.Admission;

/// <summary>
/// The free-space reserve of the daemon's state file system. The records, every sandbox's overlay and the output logs
/// share that file system; keeping a reserve free means a guest that fills it (output, a growing overlay) runs into
/// a refusal from the daemon instead of pushing SQLite and the other sandboxes into ENOSPC.
/// </summary>
public sealed class DiskReserve(string path, long reserveBytes)
{
    public long ReserveBytes => reserveBytes;

    /// <summary>Bytes an unprivileged writer may still use on the file system (statvfs f_bavail).</summary>
    public long AvailableBytes => new DriveInfo(path).AvailableFreeSpace;

    public bool IsLow => AvailableBytes < reserveBytes;

    /// <summary>Throws host_disk_low when the file system is below its reserve; <paramref name="what"/> says what is refused.</summary>
    public void EnsureAvailable(string what)
    {
        var available = AvailableBytes;
        if (available < reserveBytes)
        {
            throw new DaemonException(StatusCode.ResourceExhausted, ReasonCode.HostDiskLow,
                $"{what} are refused: {HumanSize.Format(available)} free on the state file system ({path}), below the reserve of {HumanSize.Format(reserveBytes)}");
        }
    }
}
