using System.Diagnostics;
using System.Globalization;
using Cleanroom.Images.Ext4;
using Cleanroom.TestSupport;
using Xunit.Abstractions;

namespace Cleanroom.Images.Tests.Ext4;

/// <summary>
/// Reports (never asserts) how long the writer takes for 20,000 files / ~200 MB against mkfs.ext4 -d of the same tree
/// on the same disk. Opt-in (CLEANROOM_EXT4_BENCH=1): it writes ~800 MB and takes tens of seconds on a shared box.
/// </summary>
public sealed class Ext4WriterBenchmark(ITestOutputHelper output)
{
    private const int Files = 20_000;
    private const long Capacity = 1L << 30;
    private const int Inodes = 32_768;

    [Ext4BenchFact]
    public async Task Writer_against_mkfs_for_20000_files()
    {
        var directory = Directory.CreateTempSubdirectory("cleanroom-ext4-bench-").FullName;
        try
        {
            var tree = Path.Combine(directory, "tree");
            var files = BuildTree(tree);
            var totalBytes = files.Sum(file => file.Length);
            output.WriteLine($"tree: {files.Count} files, {totalBytes / 1e6:F1} MB in {files.Select(file => file.Directory).Distinct().Count()} directories");

            var image = Path.Combine(directory, "writer.img");
            var stopwatch = Stopwatch.StartNew();
            await WriteImage(image, files);
            var written = stopwatch.Elapsed;
            using (var handle = File.OpenHandle(image, FileMode.Open, FileAccess.ReadWrite))
            {
                RandomAccess.FlushToDisk(handle);
            }

            var flushed = stopwatch.Elapsed;
            output.WriteLine($"Ext4ImageWriter: {written.TotalSeconds:F2} s without fsync, {flushed.TotalSeconds:F2} s with an fsync after");
            Ext4Tools.AssertClean(image);
            File.Delete(image);

            var plain = Path.Combine(directory, "mkfs-plain.img");
            stopwatch.Restart();
            Ext4Tools.RunChecked("mkfs.ext4", "-q", "-F", "-b", "4096", "-d", tree, plain, (Capacity / 1024).ToString(CultureInfo.InvariantCulture) + "k");
            output.WriteLine($"mkfs.ext4 -q -F -b 4096 -d: {stopwatch.Elapsed.TotalSeconds:F2} s");
            File.Delete(plain);

            var production = Path.Combine(directory, "mkfs-production.img");
            stopwatch.Restart();
            Ext4Tools.RunChecked(
                "mkfs.ext4", "-q", "-F", "-t", "ext4", "-b", "4096", "-m", "0", "-N", Inodes.ToString(CultureInfo.InvariantCulture),
                "-E", "lazy_itable_init=1,lazy_journal_init=1,root_owner=0:0", "-d", tree, production, (Capacity / 1024).ToString(CultureInfo.InvariantCulture) + "k");
            output.WriteLine($"mkfs.ext4 with Ext4Builder's flags (-m 0 -N, lazy init): {stopwatch.Elapsed.TotalSeconds:F2} s");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Streams the tree's files (page-cache warm, as git cat-file output would be) into an image.</summary>
    private static async Task WriteImage(string image, IReadOnlyList<SourceFile> files)
    {
        using var writer = Ext4ImageWriter.Create(image, new Ext4ImageOptions(Capacity, Inodes));
        var directories = new Dictionary<string, uint>();
        var metadata = new Ext4Metadata(0x1A4, 0, 0, 1_700_000_000);
        foreach (var file in files)
        {
            if (!directories.TryGetValue(file.Directory, out var parent))
            {
                parent = writer.AddDirectory(Ext4ImageWriter.RootInode, System.Text.Encoding.UTF8.GetBytes(file.Directory), new Ext4Metadata(0x1ED, 0, 0, 1_700_000_000));
                directories[file.Directory] = parent;
            }

            using var content = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            await writer.AddFileAsync(parent, System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(file.Path)), metadata, content, file.Length, CancellationToken.None);
        }

        writer.Complete();
    }

    /// <summary>200 directories of 100 files: mostly ~5 KB, every 100th 500 KB, about 200 MB in all.</summary>
    private static List<SourceFile> BuildTree(string root)
    {
        var files = new List<SourceFile>(Files);
        var buffer = DeterministicContentStream.Bytes(512 * 1024, 7);
        for (var i = 0; i < Files; i++)
        {
            var directory = $"dir{i / 100:D3}";
            Directory.CreateDirectory(Path.Combine(root, directory));
            var length = i % 100 == 0 ? 500 * 1024 : 1000 + (i * 7919 % 8000);
            var path = Path.Combine(root, directory, $"file{i:D5}.dat");
            using (var stream = File.Create(path))
            {
                stream.Write(buffer, i % 1024, length);
            }

            files.Add(new SourceFile(path, directory, length));
        }

        return files;
    }

    private sealed record SourceFile(string Path, string Directory, long Length);
}

/// <summary>Runs only when CLEANROOM_EXT4_BENCH=1 (and images can be checked with e2fsck, which needs nothing else).</summary>
internal sealed class Ext4BenchFactAttribute : FactAttribute
{
    public Ext4BenchFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("CLEANROOM_EXT4_BENCH") != "1")
        {
            Skip = "Benchmark: set CLEANROOM_EXT4_BENCH=1 to run it.";
        }
    }
}
