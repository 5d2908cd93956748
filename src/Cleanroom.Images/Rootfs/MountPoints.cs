namespace Cleanroom.Images.Rootfs;

/// <summary>
/// Directories the guest mounts over at boot. Scratch images and minimal layers often lack them; without them the
/// agent could not mount /proc or /dev, so they are added (empty, root-owned) when missing.
/// </summary>
public static class MountPoints
{
    private static readonly (string Path, UnixFileMode Mode)[] Required =
    [
        ("dev", Dir755), ("proc", Dir555), ("sys", Dir555), ("run", Dir755), ("tmp", Sticky777), ("workspace", Dir755),
    ];

    private const UnixFileMode Dir755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private const UnixFileMode Dir555 = UnixFileMode.UserRead | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private const UnixFileMode Sticky777 = Dir755 | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite | UnixFileMode.StickyBit;

    /// <summary>Creates the missing mount points under <paramref name="root"/>. Anything already there (even a symlink) is left alone.</summary>
    public static void Ensure(string root)
    {
        foreach (var (path, mode) in Required)
        {
            var full = Path.Combine(root, path);
            if (Directory.Exists(full) || File.Exists(full) || new FileInfo(full).LinkTarget is not null)
            {
                continue;
            }

            Directory.CreateDirectory(full, mode);
        }
    }
}
