using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using Cleanroom.Images.Layers;
using Cleanroom.Oci;

namespace Cleanroom.Images.Tests.Layers;

/// <summary>Size and entry limits hold across layers, and are enforced before the bytes land on disk.</summary>
public sealed class LayerLimitTests
{
    [Fact]
    public void A_decompression_bomb_is_rejected_from_its_header_without_unpacking()
    {
        using var image = new ScratchImage(new LayerLimits { MaxUnpackedBytes = 16L << 20 });
        var bomb = GzipOfZeros(200L << 20);
        Assert.True(bomb.Length < 1 << 20);

        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<LayerRejectedException>(() => image.Apply(bomb, LayerCompression.Gzip, "sha256:bomb"));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.Contains("layer sha256:bomb unpacks to more than 16777216 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("'zeros'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, image.Applier.UnpackedBytes);
        Assert.False(File.Exists(image.InRoot("zeros")));
    }

    [Fact]
    public void A_bomb_hidden_in_the_data_of_a_whiteout_is_counted_too()
    {
        using var image = new ScratchImage(new LayerLimits { MaxUnpackedBytes = 16L << 20 });
        var bomb = GzipOfZeros(200L << 20, ".wh.gone");

        var error = Assert.Throws<LayerRejectedException>(() => image.Apply(bomb, LayerCompression.Gzip, "sha256:bomb"));

        Assert.Contains("unpacks to more than", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, image.Applier.UnpackedBytes);
    }

    [Fact]
    public void The_byte_limit_is_cumulative_across_layers()
    {
        using var image = new ScratchImage(new LayerLimits { MaxUnpackedBytes = 1000 });
        image.Apply(new LayerTar().File("a", new string('a', 600)));

        var error = Assert.Throws<LayerRejectedException>(() => image.Apply(new LayerTar().File("b", new string('b', 600)), "second"));

        Assert.Contains("layer second unpacks to more than 1000 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal("b", error.EntryName);
        Assert.Equal(600, image.Applier.UnpackedBytes);
    }

    [Fact]
    public void The_byte_limit_is_also_enforced_while_copying()
    {
        // The header check normally refuses first; the per-chunk charge is the backstop should a size ever go unchecked.
        var directory = Directory.CreateTempSubdirectory("cr-layers-copy-").FullName;
        try
        {
            var budget = new UnpackBudget(new LayerLimits { MaxUnpackedBytes = 3 << 20 });
            var writer = new RegularFileWriter(budget);
            var path = Path.Combine(directory, "big");
            using (var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write))
            {
                var ones = new byte[10 << 20];
                Array.Fill(ones, (byte)1);
                var data = new MemoryStream(ones);
                Assert.Throws<EntryRejectedException>(() => writer.Copy(file, data, data.Length, CancellationToken.None));
            }

            Assert.Equal(3 << 20, budget.Bytes);
            Assert.True(new FileInfo(path).Length <= 3 << 20);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_entry_limit_is_cumulative_across_layers()
    {
        using var image = new ScratchImage(new LayerLimits { MaxEntries = 5 });
        image.Apply(new LayerTar().Directory("a").File("a/1").File("a/2"));

        var error = Assert.Throws<LayerRejectedException>(() => image.Apply(new LayerTar().File("a/3").File("a/4").File("a/5"), "many"));

        Assert.Contains("layer many has more than 5 entries", error.Message, StringComparison.Ordinal);
        Assert.Equal("a/5", error.EntryName);
        Assert.Equal(5, image.Applier.Entries);
    }

    private static byte[] GzipOfZeros(long length, string name = "zeros")
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new ZeroStream(length) });
        }

        return output.ToArray();
    }
}
