using Cleanroom.HostProcesses;

namespace Cleanroom.Images.Rootfs;

/// <summary>
/// Packs a directory tree into an ext4 image with <c>mkfs.ext4 -d</c>, which copies ownership, modes, hard links,
/// device nodes and extended attributes as they are on disk. Written to a temp name beside the target and renamed,
/// so a crash or failure never leaves a half-built image under the final name.
/// </summary>
public static class Ext4Builder
{
    public const string Label = "cleanroom-root";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(20);

    /// <summary>Builds <paramref name="targetPath"/> from <paramref name="sourceDirectory"/>.</summary>
    public static async Task BuildAsync(string sourceDirectory, string targetPath, long sizeBytes, long inodes, CancellationToken cancellationToken)
    {
        var temp = targetPath + ".tmp-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            // -m 0: a sandbox disk has no root-only reserve to keep; lazy init: the sparse file already reads as zeros.
            await HostCommand.RunAsync(
                "mkfs.ext4",
                ["-q", "-F", "-t", "ext4", "-b", "4096", "-m", "0", "-L", Label, "-N", inodes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                 "-E", "lazy_itable_init=1,lazy_journal_init=1,root_owner=0:0", "-d", sourceDirectory, temp,
                 (sizeBytes / 1024).ToString(System.Globalization.CultureInfo.InvariantCulture) + "k"],
                Timeout,
                cancellationToken);
            // Read-only root images are read by the VMs' unprivileged uids through the "other" bit (the daemon's umask
            // is 077); the state directory (0700) is what keeps other host users away from them.
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            File.Move(temp, targetPath, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
