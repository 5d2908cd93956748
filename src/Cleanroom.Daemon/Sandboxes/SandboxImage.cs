using Cleanroom.Images;
using Cleanroom.Images.Rootfs;
using Cleanroom.Oci;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>Which image a sandbox boots, and the root disk it gets from it.</summary>
public static class SandboxImage
{
    /// <summary>Null for the built-in image; otherwise the parsed reference (a bad one is the caller's error).</summary>
    public static ImageReference? ParseRequested(string? requested)
    {
        if (string.IsNullOrWhiteSpace(requested) || requested.Trim() == BuiltinImage.Ref)
        {
            return null;
        }

        return ImageReference.Parse(requested.Trim(), out var problem)
            ?? throw DaemonException.InvalidArgument($"image '{requested}' is not a valid reference: {problem}");
    }

    /// <summary>
    /// The raw image the sandbox's copy-on-write overlay sits on: the cached rootfs itself, or, when the policy asks
    /// for a bigger disk than the image has, a sparse private copy grown to that size (the cached one stays as is).
    /// </summary>
    public static async Task<string> RootDiskAsync(ImageRecord image, string workDir, long? diskFloorBytes, CancellationToken cancellationToken)
    {
        if (diskFloorBytes is not { } floor || floor <= image.FilesystemBytes)
        {
            return image.RootfsPath;
        }

        var copy = Path.Combine(workDir, "root.ext4");
        await Cleanroom.HostProcesses.HostCommand.RunAsync("cp", ["--sparse=always", "--reflink=auto", image.RootfsPath, copy], TimeSpan.FromMinutes(10), cancellationToken);
        await Ext4Builder.GrowAsync(copy, RootfsSizing.AlignUp(floor), cancellationToken);

        // Like the cached images: the VM's unprivileged uid reads its (read-only) root image through the "other" bit.
        File.SetUnixFileMode(copy, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return copy;
    }
}
