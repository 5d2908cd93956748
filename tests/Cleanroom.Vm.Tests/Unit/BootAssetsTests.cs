using System.Security.Cryptography;
using System.Text;
using Cleanroom.Vm.Assets;
using Cleanroom.Vm.Tests.Support;

namespace Cleanroom.Vm.Tests.Unit;

public sealed class BootAssetsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Loads_valid_assets()
    {
        WriteAssets();
        var assets = BootAssets.Load(_dir.Path);
        Assert.Equal(_dir.Combine("vmlinux"), assets.KernelPath);
        Assert.Equal(_dir.Combine("initramfs.cpio.gz"), assets.InitrdPath);
        Assert.Equal(_dir.Combine("base.ext4"), assets.BaseImagePath);
        Assert.Null(assets.KernelHz);
    }

    [Theory]
    [InlineData(",\"kernel\":{\"kver\":\"6.1.0-56-cloud-amd64\",\"hz\":250}", 250)]
    [InlineData(",\"kernel\":{\"kver\":\"x\",\"hz\":null}", null)]
    [InlineData(",\"kernel\":{\"hz\":\"250\"}", null)]
    [InlineData(",\"kernel\":{\"hz\":0}", null)]
    [InlineData(",\"kernel\":{\"hz\":1000000}", null)]
    [InlineData(",\"kernel\":\"6.1.0\"", null)]
    public void The_kernel_tick_rate_comes_from_the_manifest_when_it_is_plausible(string kernelEntry, int? expected)
    {
        WriteAssets(kernelEntry: kernelEntry);

        Assert.Equal(expected, BootAssets.Load(_dir.Path).KernelHz);
    }

    [Fact]
    public void Missing_manifest_names_it_and_the_setup_script()
    {
        var ex = Assert.Throws<BootAssetsException>(() => BootAssets.Load(_dir.Path));
        Assert.Contains(_dir.Combine("assets.json"), ex.Message, StringComparison.Ordinal);
        Assert.Contains("scripts/setup.sh", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vmlinux")]
    [InlineData("initramfs.cpio.gz")]
    [InlineData("base.ext4")]
    public void Missing_file_is_named(string file)
    {
        WriteAssets();
        File.Delete(_dir.Combine(file));
        var ex = Assert.Throws<BootAssetsException>(() => BootAssets.Load(_dir.Path));
        Assert.Contains($"'{file}' is missing at {_dir.Combine(file)}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("scripts/setup.sh", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Modified_kernel_is_detected_even_after_a_cached_verification()
    {
        WriteAssets();
        BootAssets.Load(_dir.Path);

        // Same size, different bytes and mtime: the cache must not vouch for it.
        File.WriteAllText(_dir.Combine("vmlinux"), "KERNEL-2");
        File.SetLastWriteTimeUtc(_dir.Combine("vmlinux"), DateTime.UtcNow.AddMinutes(1));
        var ex = Assert.Throws<BootAssetsException>(() => BootAssets.Load(_dir.Path));
        Assert.Contains("'vmlinux'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("does not match assets.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unchanged_kernel_is_not_hashed_again()
    {
        WriteAssets();
        var kernel = _dir.Combine("vmlinux");
        var first = AssetHashCache.GetSha256(kernel);

        // Rewrite the content but restore size and mtime: a cache hit proves no re-hash happened.
        var mtime = File.GetLastWriteTimeUtc(kernel);
        File.WriteAllText(kernel, "KERNEL-2");
        File.SetLastWriteTimeUtc(kernel, mtime);
        Assert.Equal(first, AssetHashCache.GetSha256(kernel));
    }

    [Fact]
    public void Size_mismatch_of_the_base_image_is_reported()
    {
        WriteAssets(baseSizeOverride: 999);
        var ex = Assert.Throws<BootAssetsException>(() => BootAssets.Load(_dir.Path));
        Assert.Contains("'base.ext4'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("assets.json says 999", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Manifest_without_a_kernel_digest_is_rejected()
    {
        WriteAssets();
        _dir.WriteFile("assets.json", "{\"files\": {}}");
        var ex = Assert.Throws<BootAssetsException>(() => BootAssets.Load(_dir.Path));
        Assert.Contains("no sha256 for 'vmlinux'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_json_is_reported_with_the_setup_hint()
    {
        WriteAssets();
        _dir.WriteFile("assets.json", "{ not json");
        var ex = Assert.Throws<BootAssetsException>(() => BootAssets.Load(_dir.Path));
        Assert.Contains("not valid JSON", ex.Message, StringComparison.Ordinal);
        Assert.Contains("scripts/setup.sh", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"files":{"vmlinux":{"sha256":"H"}}}""")]
    [InlineData("""{"vmlinux":"H"}""")]
    [InlineData("""{"vmlinux":{"sha256":"sha256:H"}}""")]
    [InlineData("""{"sha256":{"vmlinux":"H"}}""")]
    [InlineData("""{"assets":[{"name":"initramfs.cpio.gz","sha256":"0000000000000000000000000000000000000000000000000000000000000000"},{"path":"/x/vmlinux","sha256":"H"}]}""")]
    [InlineData("""{"kernel":{"file":"vmlinux","version":"6.1.0","sha256":"H"}}""")]
    [InlineData("""{"kernel":"6.1.0-56-cloud-amd64","kernel_sha256":"H"}""")]
    [InlineData("""{"vmlinux.sha256":"H"}""")]
    public void Manifest_shapes_written_by_setup_scripts_are_understood(string json)
    {
        var digest = new string('a', 60) + "B0c9";
        var parsed = AssetsManifest.Parse(json.Replace("H", digest, StringComparison.Ordinal));
        Assert.Equal(digest.ToLowerInvariant(), parsed["vmlinux"].Sha256);
    }

    [Fact]
    public void A_malformed_digest_for_a_named_file_is_an_error()
    {
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => AssetsManifest.Parse("""{"vmlinux":{"sha256":"abc"}}"""));
    }

    [Fact]
    public void Verifier_reports_every_file_for_doctor()
    {
        WriteAssets();
        File.Delete(_dir.Combine("base.ext4"));
        var checks = BootAssetsVerifier.Check(_dir.Path);
        Assert.Equal(["vmlinux", "initramfs.cpio.gz", "base.ext4"], checks.Select(c => c.FileName));
        Assert.Equal([true, true, false], checks.Select(c => c.Ok));
        Assert.Contains("sha256", checks[0].Message, StringComparison.Ordinal);
    }

    private void WriteAssets(long? baseSizeOverride = null, string kernelEntry = "")
    {
        var kernel = _dir.WriteFile("vmlinux", "KERNEL-1");
        var initrd = _dir.WriteFile("initramfs.cpio.gz", "INITRD");
        var baseImage = _dir.WriteFile("base.ext4", "BASE");
        var manifest = new StringBuilder();
        manifest.Append("{\"version\":1,\"files\":{");
        manifest.Append($"\"vmlinux\":{{\"sha256\":\"{Sha(kernel)}\",\"size\":8}},");
        manifest.Append($"\"initramfs.cpio.gz\":{{\"sha256\":\"{Sha(initrd)}\"}},");
        manifest.Append($"\"base.ext4\":{{\"sha256\":\"{Sha(baseImage)}\",\"size\":{baseSizeOverride ?? 4}}}");
        manifest.Append('}').Append(kernelEntry).Append('}');
        _dir.WriteFile("assets.json", manifest.ToString());
    }

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
