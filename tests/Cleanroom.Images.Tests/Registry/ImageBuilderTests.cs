using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Registry;

/// <summary>The test image builder itself: reproducible blobs, and layouts and archives that say what they hold.</summary>
public sealed class ImageBuilderTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void The_same_declarations_make_the_same_blobs()
    {
        LayerCompression[] compressions = [LayerCompression.None, LayerCompression.Gzip, LayerCompression.Zstd];
        var first = compressions.Select(c => Build(_directory.Combine("a"), c)).ToList();
        Thread.Sleep(1100); // across a second boundary: no wall-clock time may leak into a blob
        var second = compressions.Select(c => Build(_directory.Combine("b"), c)).ToList();

        Assert.Equal(first.Select(i => i.ManifestDigest), second.Select(i => i.ManifestDigest));
        Assert.Equal(first.Select(i => i.Layers[0].DiffId), second.Select(i => i.Layers[0].DiffId));
        Assert.Single(first.Select(i => i.Layers[0].DiffId).Distinct());
    }

    [Fact]
    public void Layers_hold_the_declared_entries_and_diff_ids_match_the_tar()
    {
        var image = Build(_directory.Combine("blobs"), LayerCompression.Gzip);
        var layer = image.Layers[0];
        using var tar = new MemoryStream();
        using (var gzip = new GZipStream(layer.Blob.OpenRead(), CompressionMode.Decompress))
        {
            gzip.CopyTo(tar);
        }

        tar.Position = 0;
        var entries = new List<(string Name, TarEntryType Type, string Link)>();
        using (var reader = new TarReader(tar, leaveOpen: true))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                entries.Add((entry.Name, entry.EntryType, entry.LinkName));
            }
        }

        Assert.Equal(layer.DiffId, Digest.FromHash(SHA256.HashData(tar.ToArray())));
        Assert.Equal(
        [
            ("etc/", TarEntryType.Directory, ""),
            ("etc/hostname", TarEntryType.RegularFile, ""),
            ("bin/sh", TarEntryType.SymbolicLink, "busybox"),
            ("etc/hostname2", TarEntryType.HardLink, "etc/hostname"),
            ("var/.wh.cache", TarEntryType.RegularFile, ""),
            ("opt/.wh..wh..opq", TarEntryType.RegularFile, ""),
            ("big.bin", TarEntryType.RegularFile, ""),
        ], entries);
        Assert.Equal([layer.DiffId.ToString()], image.Config.RootFs!.DiffIds);
    }

    [Fact]
    public void An_oci_layout_names_the_manifest_and_holds_every_blob()
    {
        var image = Build(_directory.Combine("blobs"), LayerCompression.Gzip);
        var layout = _directory.Combine("layout");

        image.WriteOciLayout(layout, "v1");

        var index = ManifestDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")), null);
        var entry = Assert.Single(index.Index!.Manifests!);
        Assert.Equal(image.ManifestDigest.ToString(), entry.Digest);
        Assert.Equal("v1", entry.Annotations!["org.opencontainers.image.ref.name"]);
        Assert.True(File.Exists(Path.Combine(layout, "oci-layout")));
        foreach (var blob in image.Blobs.Append(image.ManifestBlob))
        {
            var stored = File.ReadAllBytes(Path.Combine(layout, "blobs", "sha256", blob.Digest.Hex));
            Assert.Equal(blob.Digest, Digest.Of(stored));
        }
    }

    [Fact]
    public void A_docker_save_archive_has_manifest_json_config_and_uncompressed_layers()
    {
        var image = Build(_directory.Combine("blobs"), LayerCompression.Zstd);
        var archive = _directory.Combine("saved.tar");

        image.WriteDockerSaveArchive(archive, "team/app:v1");

        var files = new Dictionary<string, byte[]>();
        using (var reader = new TarReader(File.OpenRead(archive)))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is { } data)
                {
                    using var copy = new MemoryStream();
                    data.CopyTo(copy);
                    files[entry.Name] = copy.ToArray();
                }
            }
        }

        using var manifest = JsonDocument.Parse(files["manifest.json"]);
        var saved = manifest.RootElement[0];
        Assert.Equal("team/app:v1", saved.GetProperty("RepoTags")[0].GetString());
        Assert.Equal(image.ConfigBlob.ReadAllBytes(), files[saved.GetProperty("Config").GetString()!]);
        var layerName = saved.GetProperty("Layers")[0].GetString()!;
        Assert.Equal(image.Layers[0].DiffId, Digest.Of(files[layerName]));
    }

    [Fact]
    public void An_index_lists_each_platform_and_is_a_manifest_list_for_docker_images()
    {
        var blobs = _directory.Combine("blobs");
        var amd = new OciImageBuilder(blobs).WithDockerMediaTypes().AddLayer(l => l.File("a", "amd64")).Build();
        var arm = new OciImageBuilder(blobs).WithDockerMediaTypes().ForPlatform("linux/arm64/v8").AddLayer(l => l.File("a", "arm64")).Build();

        var index = BuiltIndex.Create(blobs, amd, arm);
        var parsed = ManifestDocument.Parse(index.Bytes, index.MediaType);

        Assert.Equal(MediaTypes.DockerManifestList, index.MediaType);
        Assert.Equal(arm.ManifestDigest.ToString(), parsed.SelectPlatform(Platform.Parse("linux/arm64/v8")).Digest);
        Assert.Equal(amd.ManifestDigest.ToString(), parsed.SelectPlatform(Platform.Parse("linux/amd64")).Digest);
    }

    [Fact]
    public void A_big_file_is_streamed_into_its_layer_not_held_in_memory()
    {
        const long size = 32L << 20;
        var builder = new OciImageBuilder(_directory.Combine("blobs"));
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var image = builder.AddLayer(l => l.BigFile("big.bin", size, seed: 8), LayerCompression.None).Build();

        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Assert.True(allocated < size / 4, $"building a {size}-byte layer allocated {allocated} bytes");
        Assert.True(image.Layers[0].Blob.Size > size);
    }

    [Fact]
    public void Raw_tar_entries_and_raw_blobs_can_be_layers()
    {
        var blobs = _directory.Combine("blobs");
        var notATar = "this is not a tar"u8.ToArray();

        var image = new OciImageBuilder(blobs)
            .AddLayer(w => w.WriteEntry(new PaxTarEntry(TarEntryType.Fifo, "run/pipe")), LayerCompression.None)
            .AddLayerBlob(notATar, LayerCompression.Gzip)
            .Build();

        using var reader = new TarReader(image.Layers[0].Blob.OpenRead());
        Assert.Equal(TarEntryType.Fifo, reader.GetNextEntry()!.EntryType);
        Assert.Equal(notATar, image.Layers[1].Blob.ReadAllBytes());
        Assert.Equal(MediaTypes.OciLayerGzip, image.Manifest.Layers![1].MediaType);
    }

    [Fact]
    public void Deterministic_content_is_addressable_by_position()
    {
        var whole = DeterministicContentStream.Bytes(1000, seed: 3);
        using var stream = new DeterministicContentStream(1000, seed: 3) { Position = 333 };
        var tail = new byte[667];

        stream.ReadExactly(tail);

        Assert.Equal(whole[333..], tail);
        Assert.NotEqual(whole, DeterministicContentStream.Bytes(1000, seed: 4));
    }

    private static BuiltImage Build(string blobs, LayerCompression compression) =>
        new OciImageBuilder(blobs)
            .WithEnv("A=1")
            .WithEntrypoint("/bin/sh", "-c")
            .WithUser("1000:1000")
            .AddLayer(l => l
                .Directory("etc")
                .File("/etc/hostname", "box\n")
                .Symlink("bin/sh", "busybox")
                .Hardlink("etc/hostname2", "/etc/hostname")
                .Whiteout("var/cache")
                .OpaqueDirectory("opt")
                .BigFile("./big.bin", 300_000, seed: 5), compression)
            .Build();
}
