namespace Cleanroom.Vm.Assets;

/// <summary>
/// Checks the three boot assets against assets.json, one result per file, so <c>doctor</c> can report each and
/// <see cref="BootAssets.Load"/> can throw on the first failure. The kernel's digest is mandatory; the initramfs is
/// hashed when its digest is listed; the base image (possibly GBs) is checked for presence and listed size only.
/// </summary>
public static class BootAssetsVerifier
{
    /// <param name="assetsDir">The assets directory.</param>
    /// <param name="manifestJson">assets.json's text when the caller has read it already (<see cref="BootAssets.Load"/>, which also
    /// takes the kernel's tick rate from it); otherwise it is read here.</param>
    public static IReadOnlyList<AssetCheck> Check(string assetsDir, string? manifestJson = null)
    {
        var assets = BootAssets.FromDirectory(assetsDir);
        var manifestPath = Path.Combine(Path.GetFullPath(assetsDir), BootAssets.ManifestFileName);

        IReadOnlyDictionary<string, ExpectedAsset> expected;
        try
        {
            expected = AssetsManifest.ParseFile(manifestJson ?? AssetsManifest.ReadText(manifestPath), manifestPath);
        }
        catch (BootAssetsException ex)
        {
            return
            [
                new AssetCheck(BootAssets.KernelFileName, assets.KernelPath, false, ex.Message),
                new AssetCheck(BootAssets.InitrdFileName, assets.InitrdPath, false, ex.Message),
                new AssetCheck(BootAssets.BaseImageFileName, assets.BaseImagePath, false, ex.Message),
            ];
        }

        return
        [
            CheckFile(BootAssets.KernelFileName, assets.KernelPath, expected, hash: true, digestRequired: true),
            CheckFile(BootAssets.InitrdFileName, assets.InitrdPath, expected, hash: true, digestRequired: false),
            CheckFile(BootAssets.BaseImageFileName, assets.BaseImagePath, expected, hash: false, digestRequired: false),
        ];
    }

    private static AssetCheck CheckFile(
        string name, string path, IReadOnlyDictionary<string, ExpectedAsset> manifest, bool hash, bool digestRequired)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return Fail($"Boot asset '{name}' is missing at {path}. {BootAssets.SetupHint}");
        }

        manifest.TryGetValue(name, out var expected);
        if (digestRequired && expected?.Sha256 is null)
        {
            return Fail($"assets.json lists no sha256 for '{name}', so {path} cannot be verified. {BootAssets.SetupHint}");
        }

        if (expected?.Size is { } size && size != info.Length)
        {
            return Fail($"Boot asset '{name}' at {path} is {info.Length} bytes but assets.json says {size}. {Rebuild}");
        }

        var sizeText = $"{info.Length / (1024.0 * 1024.0):0.0} MiB";
        if (!hash || expected?.Sha256 is null)
        {
            return new AssetCheck(name, path, true, $"{path} ({sizeText}, not hashed)");
        }

        string actual;
        try
        {
            actual = AssetHashCache.GetSha256(path);
        }
        catch (IOException ex)
        {
            return Fail($"Boot asset '{name}' at {path} cannot be read ({ex.Message}). {BootAssets.SetupHint}");
        }
        catch (UnauthorizedAccessException ex)
        {
            return Fail($"Boot asset '{name}' at {path} cannot be read ({ex.Message}). {BootAssets.SetupHint}");
        }

        if (!string.Equals(actual, expected.Sha256, StringComparison.Ordinal))
        {
            return Fail($"Boot asset '{name}' at {path} does not match assets.json (sha256 expected {expected.Sha256[..12]}…, found {actual[..12]}…). {Rebuild}");
        }

        return new AssetCheck(name, path, true, $"{path} ({sizeText}, sha256 {actual[..12]}… verified)");

        AssetCheck Fail(string message) => new(name, path, false, message);
    }

    private const string Rebuild = "The file changed after scripts/setup.sh wrote it; run scripts/setup.sh again.";
}
