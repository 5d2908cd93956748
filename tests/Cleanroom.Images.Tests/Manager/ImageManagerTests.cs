using System.Formats.Tar;
using Cleanroom.Images.Layers;
using Cleanroom.Images.Registry;
using Cleanroom.Images.Tests.Layers;
using Cleanroom.Images.Tests.Registry;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Manager;

/// <summary>
/// Pull → apply → ext4 through the image manager against a real registry: the result, the cache, shared pulls, and
/// that every hostile or broken image is refused with a clear error and leaves nothing behind.
/// </summary>
public sealed class ImageManagerTests(RegistryFixture fixture) : IClassFixture<RegistryFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task A_pull_builds_a_clean_ext4_with_the_layers_applied_and_records_the_image()
    {
        var image = new OciImageBuilder(fixture.Scratch.Combine("blobs"))
            .WithEnv("PATH=/usr/bin:/bin", "MODE=test")
            .WithWorkingDir("/srv")
            .WithUser("1000:1000")
            .AddLayer(l => l.Directory("etc").File("etc/keep", "lower\n").File("etc/gone", "x").Directory("cache").File("cache/old", "old"))
            .AddLayer(l => l.Whiteout("etc/gone").OpaqueDirectory("cache").File("cache/new", "new").Hardlink("etc/keep-link", "etc/keep").Symlink("etc/abs", "/etc/keep"), LayerCompression.Zstd)
            .Build();
        await fixture.Pusher.PushImageAsync("manager/tree", "v1", image);
        using var scope = new ImageManagerScope();
        var reference = ImageReference.Parse(fixture.Registry.Reference("manager/tree:v1"));

        var record = await scope.Manager.EnsureAsync(reference, Ct);

        Assert.Equal(image.ManifestDigest, record.Digest);
        Assert.True(File.Exists(record.RootfsPath));
        Assert.True(Ext4Contents.IsClean(record.RootfsPath));
        Assert.Equal(["abs", "keep", "keep-link"], Ext4Contents.List(record.RootfsPath, "/etc"));
        Assert.Equal(["new"], Ext4Contents.List(record.RootfsPath, "/cache"));
        Assert.Contains("Links: 2", Ext4Contents.Stat(record.RootfsPath, "/etc/keep"), StringComparison.Ordinal);
        Assert.NotEmpty(Ext4Contents.Stat(record.RootfsPath, "/proc"));
        Assert.Equal(["MODE=test", "PATH=/usr/bin:/bin"], record.Defaults.Env!.Order());
        Assert.Equal(("/srv", "1000:1000"), (record.Defaults.WorkingDir, record.Defaults.User));
        Assert.Contains(reference.Reference, record.Refs);
        Assert.Empty(Directory.EnumerateFileSystemEntries(scope.Options.DownloadsDirectory));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_image_in_the_store_is_used_without_asking_the_registry(bool pinnedRef)
    {
        var image = await fixture.PushUniqueImageAsync("manager/stored-" + pinnedRef.ToString().ToLowerInvariant());
        await using var recorder = LoopbackHttpServer.Start(context => HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri));
        using var scope = new ImageManagerScope();
        var repository = $"{recorder.Host}/manager/stored-{pinnedRef.ToString().ToLowerInvariant()}";
        var pinned = ImageReference.Parse(pinnedRef ? $"{repository}@{image.ManifestDigest}" : $"{repository}:v1");
        var first = await scope.Manager.EnsureAsync(pinned, Ct);
        var requestsAfterPull = recorder.Requests.Count;

        var second = await scope.Manager.EnsureAsync(pinned, Ct);

        Assert.Equal(first.Digest, second.Digest);
        Assert.Equal(requestsAfterPull, recorder.Requests.Count);
    }

    [Fact]
    public async Task Concurrent_pulls_of_one_image_share_one_download()
    {
        var image = await fixture.PushUniqueImageAsync("manager/shared", 2 * 1024 * 1024);
        await using var recorder = LoopbackHttpServer.Start(context => HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri));
        using var scope = new ImageManagerScope();
        var reference = ImageReference.Parse($"{recorder.Host}/manager/shared:v1");

        var pulls = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => scope.Manager.EnsureAsync(reference, Ct)));

        Assert.All(pulls, p => Assert.Equal(image.ManifestDigest, p.Digest));
        var layerPath = $"/v2/manager/shared/blobs/{image.Layers[0].Descriptor.Digest}";
        Assert.Equal(1, recorder.Requests.Count(r => r.Method == "GET" && r.PathAndQuery == layerPath));
        Assert.Single(scope.Manager.List());
    }

    [Fact]
    public async Task Two_images_sharing_a_layer_pull_at_once_without_disturbing_each_other()
    {
        static void Base(LayerContents l) => l.Directory("base").BigFile("base/shared.bin", 3 * 1024 * 1024, seed: 4711);
        var first = new OciImageBuilder(fixture.Scratch.Combine("blobs")).AddLayer(Base).AddLayer(l => l.File("which", "first")).Build();
        var second = new OciImageBuilder(fixture.Scratch.Combine("blobs")).AddLayer(Base).AddLayer(l => l.File("which", "second")).Build();
        Assert.Equal(first.Layers[0].Descriptor.Digest, second.Layers[0].Descriptor.Digest);
        await fixture.Pusher.PushImageAsync("manager/share-a", "v1", first);
        await fixture.Pusher.PushImageAsync("manager/share-b", "v1", second);
        using var scope = new ImageManagerScope();

        var pulled = await Task.WhenAll(
            scope.Manager.EnsureAsync(ImageReference.Parse(fixture.Registry.Reference("manager/share-a:v1")), Ct),
            scope.Manager.EnsureAsync(ImageReference.Parse(fixture.Registry.Reference("manager/share-b:v1")), Ct));

        Assert.Equal("first", Ext4Contents.Cat(pulled[0].RootfsPath, "/which"));
        Assert.Equal("second", Ext4Contents.Cat(pulled[1].RootfsPath, "/which"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(scope.Options.DownloadsDirectory));
    }

    [Fact]
    public async Task A_multi_platform_index_gives_the_host_platform_and_records_the_index_pin()
    {
        using var scope = new ImageManagerScope();

        var record = await scope.Manager.EnsureAsync(fixture.MultiRef, Ct);

        Assert.Equal(fixture.App.ManifestDigest, record.Digest);
        Assert.Contains($"{fixture.MultiRef.Repository}@{fixture.Multi.Digest}", record.Refs);
    }

    [Fact]
    public async Task An_image_for_another_platform_is_refused()
    {
        var arm = new OciImageBuilder(fixture.Scratch.Combine("blobs")).ForPlatform("linux/arm64/v8").AddLayer(l => l.File("arch", "arm64")).Build();
        await fixture.Pusher.PushImageAsync("manager/arm", "v1", arm);
        using var scope = new ImageManagerScope();

        var error = await Assert.ThrowsAsync<ImagePlatformException>(() => scope.Manager.EnsureAsync(ImageReference.Parse(fixture.Registry.Reference("manager/arm:v1")), Ct));

        Assert.Contains("linux/arm64/v8", error.Message, StringComparison.Ordinal);
        scope.AssertNothingLeft();
    }

    public static TheoryData<string> HostileLayers() => ["traversal", "absolute", "symlink-escape", "hardlink-escape", "bomb", "truncated-gzip"];

    [Theory]
    [MemberData(nameof(HostileLayers))]
    public async Task A_hostile_layer_is_refused_and_leaves_nothing(string kind)
    {
        var outside = $"/tmp/cleanroom-escape-{Guid.NewGuid():N}";
        var builder = new OciImageBuilder(fixture.Scratch.Combine("blobs")).AddLayer(l => l.Directory("ok").File("ok/file", kind));
        builder = kind switch
        {
            "traversal" => builder.AddLayer(w => w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "../../.." + outside) { DataStream = new MemoryStream("x"u8.ToArray()) }), LayerCompression.Gzip),
            "absolute" => builder.AddLayer(w => w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, outside + "/file") { DataStream = new MemoryStream("x"u8.ToArray()) }), LayerCompression.Gzip),
            "symlink-escape" => builder.AddLayer(l => l.Symlink("evil", "../../../../../../.." + outside)).AddLayer(l => l.File("evil/pwned", "x")),
            "hardlink-escape" => builder.AddLayer(w => w.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, "shadow") { LinkName = "../../../../etc/shadow" }), LayerCompression.None),
            "bomb" => builder.AddLayer(l => l.File("zeros", new ZeroStream(64L << 20)), LayerCompression.Gzip),
            _ => builder.AddLayerBlob(TruncatedGzip(), LayerCompression.Gzip),
        };
        var image = builder.Build();
        await fixture.Pusher.PushImageAsync("manager/hostile-" + kind, "v1", image);
        using var scope = new ImageManagerScope(new LayerLimits { MaxUnpackedBytes = 16L << 20 });

        var error = await Assert.ThrowsAsync<LayerRejectedException>(() => scope.Manager.EnsureAsync(ImageReference.Parse(fixture.Registry.Reference($"manager/hostile-{kind}:v1")), Ct));

        Assert.Matches(@"layer [23]/[23]", error.Message); // names the layer
        Assert.False(Path.Exists(outside));
        scope.AssertNothingLeft();
    }

    [Fact]
    public async Task A_corrupted_blob_in_the_registry_is_refused_and_leaves_nothing()
    {
        var image = await fixture.PushUniqueImageAsync("manager/corrupt", 128 * 1024);
        var stored = fixture.Registry.BlobDataPath(image.Layers[0].Descriptor.ParsedDigest);
        var bytes = await File.ReadAllBytesAsync(stored, Ct);
        bytes[^10] ^= 0xff;
        await File.WriteAllBytesAsync(stored, bytes, Ct);
        using var scope = new ImageManagerScope();

        var error = await Assert.ThrowsAsync<RegistryException>(() => scope.Manager.EnsureAsync(ImageReference.Parse(fixture.Registry.Reference("manager/corrupt:v1")), Ct));

        Assert.Equal(RegistryErrorKind.DigestMismatch, error.Kind);
        scope.AssertNothingLeft();
    }

    [Fact]
    public async Task A_manifest_that_lies_about_a_layer_size_is_refused_and_leaves_nothing()
    {
        var image = await fixture.PushUniqueImageAsync("manager/liar", 128 * 1024);
        var lying = image.Manifest with { Layers = [image.Layers[0].Descriptor with { Size = image.Layers[0].Descriptor.Size - 100 }] };
        await fixture.Pusher.PushManifestAsync("manager/liar", "lie", OciImageBuilder.Serialize(lying), MediaTypes.OciManifest);
        using var scope = new ImageManagerScope();

        var error = await Assert.ThrowsAsync<RegistryException>(() => scope.Manager.EnsureAsync(ImageReference.Parse(fixture.Registry.Reference("manager/liar:lie")), Ct));

        Assert.Contains("larger than the manifest says", error.Message, StringComparison.Ordinal);
        scope.AssertNothingLeft();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Docker_save_and_oci_layout_archives_import_to_the_same_tree(bool dockerSave)
    {
        var image = new OciImageBuilder(fixture.Scratch.Combine("blobs"))
            .WithCmd("/bin/sh")
            .AddLayer(l => l.Directory("app").File("app/run", "#!/bin/sh\n", LayerContents.FileMode755))
            .AddLayer(l => l.File("app/data", "data"), LayerCompression.Zstd)
            .Build();
        using var scratch = new TemporaryDirectory("cleanroom-import");
        var archive = scratch.Combine("image.tar");
        if (dockerSave)
        {
            image.WriteDockerSaveArchive(archive, "app:dev");
        }
        else
        {
            image.WriteOciArchive(archive, gzip: true);
        }

        using var scope = new ImageManagerScope();

        var record = await scope.Manager.ImportAsync(ImageReference.Parse("app:dev"), archive, Ct);

        Assert.Equal(["data", "run"], Ext4Contents.List(record.RootfsPath, "/app"));
        Assert.Equal(ImageSources.Import, record.Source);
        Assert.Contains("app:dev", record.Refs);
        if (!dockerSave)
        {
            Assert.Equal(image.ManifestDigest, record.Digest);
        }
    }

    [Fact]
    public async Task An_archive_imported_under_a_digest_it_does_not_have_is_refused()
    {
        var image = new OciImageBuilder(fixture.Scratch.Combine("blobs")).AddLayer(l => l.File("f", "impostor")).Build();
        using var scratch = new TemporaryDirectory("cleanroom-import");
        var archive = scratch.Combine("image.tar");
        image.WriteOciArchive(archive);
        using var scope = new ImageManagerScope();
        var claimed = ImageReference.Parse("ghcr.io/org/base@sha256:" + new string('c', 64));

        var error = await Assert.ThrowsAsync<ImageArchiveException>(() => scope.Manager.ImportAsync(claimed, archive, Ct));

        Assert.Contains(image.ManifestDigest.ToString(), error.Message, StringComparison.Ordinal);
        scope.AssertNothingLeft();
    }

    [Fact]
    public async Task A_tampered_oci_archive_is_refused_and_leaves_nothing()
    {
        var image = new OciImageBuilder(fixture.Scratch.Combine("blobs")).AddLayer(l => l.File("f", "original")).Build();
        using var scratch = new TemporaryDirectory("cleanroom-import");
        var layout = scratch.Combine("layout");
        image.WriteOciLayout(layout);
        var blob = Path.Combine(layout, "blobs", "sha256", image.Layers[0].Descriptor.ParsedDigest.Hex);
        var bytes = await File.ReadAllBytesAsync(blob, Ct);
        bytes[^5] ^= 0x55;
        await File.WriteAllBytesAsync(blob, bytes, Ct);
        var archive = scratch.Combine("tampered.tar");
        await TarFile.CreateFromDirectoryAsync(layout, archive, includeBaseDirectory: false, Ct);
        using var scope = new ImageManagerScope();

        var error = await Assert.ThrowsAsync<ImageArchiveException>(() => scope.Manager.ImportAsync(ImageReference.Parse("tampered:1"), archive, Ct));

        Assert.Contains("does not match its digest", error.Message, StringComparison.Ordinal);
        scope.AssertNothingLeft();
    }

    [Fact]
    public async Task Remove_takes_a_short_digest_or_a_ref_and_refuses_an_image_in_use()
    {
        await fixture.PushUniqueImageAsync("manager/rm");
        using var scope = new ImageManagerScope();
        var record = await scope.Manager.EnsureAsync(ImageReference.Parse(fixture.Registry.Reference("manager/rm:v1")), Ct);

        var inUse = Assert.Throws<ImageInUseException>(() => scope.Manager.Remove(record.Digest.Hex[..12], _ => "sandbox-1"));
        Assert.Contains("sandbox-1", inUse.Message, StringComparison.Ordinal);
        Assert.Throws<ImageNotFoundException>(() => scope.Manager.Remove("nosuch/image:tag", _ => null));

        var removed = scope.Manager.Remove(fixture.Registry.Reference("manager/rm:v1"), _ => null);

        Assert.Equal(record.Digest, removed.Digest);
        scope.AssertNothingLeft();
    }

    private static byte[] TruncatedGzip()
    {
        using var raw = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(raw, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "big") { DataStream = new DeterministicContentStream(256 * 1024, 5) });
        }

        return raw.ToArray()[..(int)(raw.Length / 2)];
    }
}
