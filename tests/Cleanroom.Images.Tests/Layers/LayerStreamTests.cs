using System.Formats.Tar;
using Cleanroom.Images.Layers;
using Cleanroom.Oci;

namespace Cleanroom.Images.Tests.Layers;

/// <summary>Compression, truncation, corruption and cancellation: a damaged layer is a clear rejection, never a raw exception.</summary>
public sealed class LayerStreamTests : IDisposable
{
    private readonly ScratchImage _image = new();

    public static TheoryData<LayerCompression> Compressions => [LayerCompression.None, LayerCompression.Gzip, LayerCompression.Zstd];

    [Theory]
    [MemberData(nameof(Compressions))]
    public void Each_compression_unpacks_the_same_content(LayerCompression compression)
    {
        var layer = SampleLayer();
        _image.Apply(layer.ToBlob(compression), compression);

        Assert.Equal(new string('x', 100_000), File.ReadAllText(_image.InRoot("dir/big")));
        Assert.Equal("small", File.ReadAllText(_image.InRoot("dir/small")));
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void A_truncated_layer_is_rejected_as_truncated(LayerCompression compression)
    {
        var blob = SampleLayer().ToBlob(compression);

        var error = Assert.Throws<LayerRejectedException>(() => _image.Apply(blob[..(blob.Length / 2)], compression, "sha256:cut"));

        Assert.StartsWith("layer sha256:cut is truncated or corrupt", error.Message, StringComparison.Ordinal);
        Assert.IsNotType<LayerRejectedException>(error.InnerException);
    }

    [Fact]
    public void A_tar_that_stops_between_entries_without_its_end_marker_is_rejected()
    {
        var tar = new LayerTar().File("a", "a").ToTar();

        var error = Assert.Throws<LayerRejectedException>(() => _image.Apply(tar[..^1024], LayerCompression.None));

        Assert.Contains("truncated or corrupt", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void Garbage_is_rejected_as_corrupt(LayerCompression compression)
    {
        var garbage = new byte[4096];
        new Random(7).NextBytes(garbage);

        var error = Assert.Throws<LayerRejectedException>(() => _image.Apply(garbage, compression));

        Assert.Contains("truncated or corrupt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corruption_inside_a_gzip_stream_is_rejected()
    {
        var blob = SampleLayer().ToBlob(LayerCompression.Gzip);
        for (var i = 40; i < 80; i++)
        {
            blob[i] ^= 0x55;
        }

        Assert.Throws<LayerRejectedException>(() => _image.Apply(blob, LayerCompression.Gzip));
    }

    [Theory]
    [MemberData(nameof(Compressions))]
    public void Anything_after_the_end_of_archive_marker_is_ignored(LayerCompression compression)
    {
        var tar = SampleLayer().ToTar().Concat("trailing garbage, not a header"u8.ToArray()).ToArray();
        var blob = LayerTar.Compress(tar, compression);

        _image.Apply(blob, compression);

        Assert.Equal("small", File.ReadAllText(_image.InRoot("dir/small")));
    }

    [Fact]
    public void A_cancelled_token_stops_before_anything_is_written()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => _image.Apply(SampleLayer().ToTar(), LayerCompression.None, cancellationToken: cancelled.Token));
        Assert.Empty(Directory.GetFileSystemEntries(_image.Root));
    }

    [Fact]
    public void Cancellation_stops_a_large_copy_midway()
    {
        using var cancellation = new CancellationTokenSource();
        var tar = new LayerTar().File("huge", new ZeroStream(32L << 20)).ToTar();
        using var blob = new CancellingStream(new MemoryStream(tar), cancelAfter: 4L << 20, cancellation);

        Assert.ThrowsAny<OperationCanceledException>(() => _image.Applier.Apply(blob, LayerCompression.None, "huge", cancellation.Token));
        Assert.InRange(_image.Applier.UnpackedBytes, 1, 8L << 20);
    }

    private static LayerTar SampleLayer() => new LayerTar()
        .Directory("dir")
        .File("dir/big", new string('x', 100_000))
        .File("dir/small", "small");

    public void Dispose() => _image.Dispose();
}
