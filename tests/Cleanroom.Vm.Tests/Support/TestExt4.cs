using System.Globalization;

namespace Cleanroom.Vm.Tests.Support;

/// <summary>Small real ext4 images for tests (mkfs.ext4 -d), and what e2fsprogs says about them.</summary>
internal static class TestExt4
{
    /// <summary>The one file every test image holds, at <c>/hello</c>.</summary>
    public const string HelloContent = "the image's own file\n";

    /// <summary>Makes <paramref name="name"/> in <paramref name="dir"/>: an ext4 file system of <paramref name="bytes"/> holding <c>/hello</c>.</summary>
    public static async Task<string> MakeAsync(TempDir dir, string name, long bytes)
    {
        var content = Directory.CreateDirectory(dir.Combine(name + ".content")).FullName;
        await File.WriteAllTextAsync(Path.Combine(content, "hello"), HelloContent);
        var image = dir.Combine(name);
        await HostTools.RunAsync("/usr/sbin/mkfs.ext4", "-q", "-F", "-b", "4096", "-d", content, image, (bytes / 1024).ToString(CultureInfo.InvariantCulture) + "k");
        return image;
    }

    /// <summary>The file system's own size (block count times block size), whatever the file's length.</summary>
    public static async Task<long> FilesystemBytesAsync(string image)
    {
        var header = (await HostTools.RunAsync("/usr/sbin/dumpe2fs", "-h", image)).Stdout.Split('\n');
        long Field(string name) => long.Parse(header.Single(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
        return Field("Block count") * Field("Block size");
    }

    /// <summary>The contents of <c>/hello</c> in <paramref name="image"/>.</summary>
    public static async Task<string> ReadHelloAsync(string image) =>
        (await HostTools.RunAsync("/usr/sbin/debugfs", "-R", "cat /hello", image)).Stdout;
}
