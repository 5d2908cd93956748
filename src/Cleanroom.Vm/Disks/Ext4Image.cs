using Cleanroom.HostProcesses;

namespace Cleanroom.Vm.Disks;

/// <summary>Changes raw ext4 image files with e2fsprogs. The image must not be mounted or in use by a VM.</summary>
internal static class Ext4Image
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(20);

    /// <summary>Grows an (unmounted) image file to <paramref name="sizeBytes"/>: the file, then the file system.</summary>
    public static async Task GrowAsync(string imagePath, long sizeBytes, CancellationToken cancellationToken)
    {
        await using (var file = new FileStream(imagePath, FileMode.Open, FileAccess.Write))
        {
            if (file.Length >= sizeBytes)
            {
                return;
            }

            file.SetLength(sizeBytes);
        }

        // resize2fs insists on a clean, recently checked file system; a fresh copy of an image we built is both.
        await HostCommand.RunAsync("e2fsck", ["-f", "-p", imagePath], Timeout, cancellationToken);
        await HostCommand.RunAsync("resize2fs", ["-f", imagePath], Timeout, cancellationToken);
    }
}
