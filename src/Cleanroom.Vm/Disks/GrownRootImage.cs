using Cleanroom.HostProcesses;

namespace Cleanroom.Vm.Disks;

/// <summary>
/// The root image of a VM that must have a bigger root disk than its image has (<see cref="VmSpec.RootDiskMinBytes"/>):
/// a sparse private copy, grown to that size, in the VM's work directory. The shared image is only ever read, so the
/// other VMs booted from it keep its size and its contents.
/// </summary>
internal static class GrownRootImage
{
    /// <summary>Grown sizes are rounded up to whole 4 MiB, the granularity the image store sizes its images in.</summary>
    public const long Alignment = 4L << 20;

    private static readonly TimeSpan CopyTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The image to boot: <paramref name="imagePath"/> itself when it already holds <paramref name="minBytes"/>, else a
    /// copy at <paramref name="copyPath"/> grown to <paramref name="minBytes"/> (rounded up to <see cref="Alignment"/>).
    /// </summary>
    public static async Task<string> PrepareAsync(string imagePath, long minBytes, string copyPath, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("VM root images are prepared on Linux only.");
        }

        if (!File.Exists(imagePath))
        {
            throw new VmException($"Root image {imagePath} does not exist.");
        }

        var size = AlignUp(minBytes);
        if (new FileInfo(imagePath).Length >= size)
        {
            return imagePath;
        }

        await HostCommand.RunAsync("cp", ["--sparse=always", "--reflink=auto", imagePath, copyPath], CopyTimeout, cancellationToken);
        await Ext4Image.GrowAsync(copyPath, size, cancellationToken);

        // Like the shared images: the VM's unprivileged uid reads its (read-only) root image through the "other" bit.
        File.SetUnixFileMode(copyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return copyPath;
    }

    private static long AlignUp(long bytes) => (bytes + Alignment - 1) / Alignment * Alignment;
}
