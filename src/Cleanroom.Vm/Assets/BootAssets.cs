namespace Cleanroom.Vm.Assets;

/// <summary>The files every VM boots from: an uncompressed kernel, the agent's initramfs and the default root image.</summary>
public sealed record BootAssets(string KernelPath, string InitrdPath, string BaseImagePath)
{
    /// <summary>The kernel's CONFIG_HZ from assets.json, when recorded (see <see cref="AssetsManifest.KernelHz"/>).</summary>
    public int? KernelHz { get; init; }

    public const string ManifestFileName = "assets.json";
    public const string KernelFileName = "vmlinux";
    public const string InitrdFileName = "initramfs.cpio.gz";
    public const string BaseImageFileName = "base.ext4";

    /// <summary>The command that (re)builds the assets; every error tells the user to run it.</summary>
    public const string SetupHint = "Run scripts/setup.sh to build the boot assets.";

    /// <summary>
    /// Loads <paramref name="assetsDir"/>/assets.json, checks that the three files exist and that the kernel (and the
    /// initramfs, when listed) match their recorded sha256. Hashes are cached by path, size and mtime, so repeated loads
    /// cost a stat per file. Throws <see cref="BootAssetsException"/> naming the first bad file.
    /// </summary>
    public static BootAssets Load(string assetsDir)
    {
        // Read once, for the checks and for the kernel's tick rate: this runs at every create.
        var manifest = AssetsManifest.ReadText(Path.Combine(Path.GetFullPath(assetsDir), ManifestFileName));
        var failed = BootAssetsVerifier.Check(assetsDir, manifest).FirstOrDefault(c => !c.Ok);
        if (failed is not null)
        {
            throw new BootAssetsException(failed.Message);
        }

        return FromDirectory(assetsDir) with { KernelHz = AssetsManifest.KernelHz(manifest) };
    }

    /// <summary>The conventional file locations inside <paramref name="assetsDir"/>, without any checks.</summary>
    public static BootAssets FromDirectory(string assetsDir)
    {
        var dir = Path.GetFullPath(assetsDir);
        return new BootAssets(
            Path.Combine(dir, KernelFileName),
            Path.Combine(dir, InitrdFileName),
            Path.Combine(dir, BaseImageFileName));
    }
}
