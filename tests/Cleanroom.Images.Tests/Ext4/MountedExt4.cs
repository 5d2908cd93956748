using System.Text;

namespace Cleanroom.Images.Tests.Ext4;

/// <summary>An ext4 image loop-mounted read-only, as the guest kernel mounts it; unmounted on dispose.</summary>
internal sealed class MountedExt4 : IDisposable
{
    private MountedExt4(string path) => Path = path;

    public string Path { get; }

    /// <summary>Why images cannot be mounted here (not root, no loop devices), or null when they can.</summary>
    public static string? SkipReason => LazySkipReason.Value;

    private static Lazy<string?> LazySkipReason { get; } = new(Probe);

    public static MountedExt4 Mount(string image, string mountPoint)
    {
        Directory.CreateDirectory(mountPoint);
        Ext4Tools.RunChecked("mount", "-o", "ro,loop", "-t", "ext4", image, mountPoint);
        return new MountedExt4(mountPoint);
    }

    public void Dispose() => Ext4Tools.Run("umount", Path);

    /// <summary>Mounts a tiny mkfs-made image once to learn whether loop mounts work on this machine.</summary>
    private static string? Probe()
    {
        if (Environment.UserName != "root")
        {
            return "Loop-mounting ext4 images needs root.";
        }

        var directory = Directory.CreateTempSubdirectory("cleanroom-ext4-probe").FullName;
        try
        {
            var image = System.IO.Path.Combine(directory, "probe.img");
            var mountPoint = System.IO.Path.Combine(directory, "mnt");
            Directory.CreateDirectory(mountPoint);
            File.WriteAllBytes(image, []);
            var (mkfs, _, mkfsError) = Ext4Tools.Run("mkfs.ext4", "-q", "-F", image, "4M");
            if (mkfs != 0)
            {
                return $"mkfs.ext4 failed: {mkfsError}";
            }

            var (mount, output, error) = Ext4Tools.Run("mount", "-o", "ro,loop", "-t", "ext4", image, mountPoint);
            if (mount != 0)
            {
                return $"Loop mounts are not possible here: {error}{Encoding.UTF8.GetString(output)}";
            }

            Ext4Tools.Run("umount", mountPoint);
            return null;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

/// <summary>A test that loop-mounts images; skipped with the reason when that is impossible here.</summary>
internal sealed class Ext4MountFactAttribute : FactAttribute
{
    public Ext4MountFactAttribute()
    {
        Skip = MountedExt4.SkipReason;
    }
}
