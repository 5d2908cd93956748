using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Cleanroom.Oci;

namespace Cleanroom.TestSupport;

/// <summary>
/// Builds container images from test code: layers declared with <see cref="LayerContents"/> (or raw tar entries,
/// or raw blob bytes), run defaults, platform; produces the config and manifest blobs with OCI media types or,
/// optionally, Docker v2 ones. Blobs are files in the directory given (layers are streamed, never held in memory);
/// the result can be pushed with <see cref="RegistryPusher"/>, combined into a <see cref="BuiltIndex"/>, or
/// written as an OCI layout or a <c>docker save</c> tarball.
/// </summary>
public sealed class OciImageBuilder
{
    /// <summary>The Docker media type of an uncompressed layer; not among those the product accepts, but real.</summary>
    public const string DockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";

    private readonly string _blobDirectory;
    private readonly List<(ImageBlob Blob, Digest DiffId, LayerCompression Compression)> _layers = [];
    private Platform _platform = new("linux", "amd64");
    private bool _dockerMediaTypes;
    private RunDefaults _defaults = new();

    /// <param name="blobDirectory">Where blobs are written (created if needed; the caller deletes it).</param>
    public OciImageBuilder(string blobDirectory)
    {
        _blobDirectory = Directory.CreateDirectory(blobDirectory).FullName;
    }

    /// <summary>The modification time of every entry written through <see cref="LayerContents"/>.</summary>
    public DateTimeOffset ModificationTime { get; init; } = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public OciImageBuilder ForPlatform(string platform) => ForPlatform(Platform.Parse(platform));

    public OciImageBuilder ForPlatform(Platform platform)
    {
        _platform = platform;
        return this;
    }

    /// <summary>Docker v2 schema 2 media types for manifest, config and (gzip) layers instead of OCI ones.</summary>
    public OciImageBuilder WithDockerMediaTypes(bool docker = true)
    {
        _dockerMediaTypes = docker;
        return this;
    }

    public OciImageBuilder WithEnv(params string[] env) => With(_defaults with { Env = [.. env] });

    public OciImageBuilder WithEntrypoint(params string[] entrypoint) => With(_defaults with { Entrypoint = [.. entrypoint] });

    public OciImageBuilder WithCmd(params string[] cmd) => With(_defaults with { Cmd = [.. cmd] });

    public OciImageBuilder WithWorkingDir(string workingDir) => With(_defaults with { WorkingDir = workingDir });

    public OciImageBuilder WithUser(string user) => With(_defaults with { User = user });

    /// <summary>Adds a layer whose tar is declared through <paramref name="contents"/>.</summary>
    public OciImageBuilder AddLayer(Action<LayerContents> contents, LayerCompression compression = LayerCompression.Gzip) =>
        WriteLayer(writer => contents(new LayerContents(writer, ModificationTime)), compression);

    /// <summary>Adds a layer whose tar entries <paramref name="write"/> writes itself (any header, any entry type).</summary>
    public OciImageBuilder AddLayer(Action<TarWriter> write, LayerCompression compression) => WriteLayer(write, compression);

    /// <summary>
    /// Adds a layer blob exactly as given, for layers that are deliberately broken (not a tar, bad compression).
    /// <paramref name="diffId"/> defaults to the blob's own digest.
    /// </summary>
    public OciImageBuilder AddLayerBlob(byte[] blob, LayerCompression compression, Digest? diffId = null)
    {
        var written = WriteBlob(blob, "");
        _layers.Add((written, diffId ?? written.Digest, compression));
        return this;
    }

    /// <summary>Writes the config and the manifest and returns the image.</summary>
    public BuiltImage Build()
    {
        var layers = _layers.Select(l => new BuiltLayer(
            l.Blob with { Descriptor = l.Blob.Descriptor with { MediaType = LayerMediaType(l.Compression) } }, l.DiffId, l.Compression)).ToList();
        var config = new ImageConfigFile
        {
            Architecture = _platform.Architecture,
            Os = _platform.Os,
            Variant = _platform.Variant,
            Config = _defaults,
            RootFs = new RootFsSection { Type = "layers", DiffIds = [.. layers.Select(l => l.DiffId.ToString())] },
        };
        var configBlob = WriteBlob(JsonSerializer.SerializeToUtf8Bytes(config, OciJsonContext.Default.ImageConfigFile),
            _dockerMediaTypes ? MediaTypes.DockerConfig : MediaTypes.OciConfig);
        var manifestMediaType = _dockerMediaTypes ? MediaTypes.DockerManifest : MediaTypes.OciManifest;
        var manifest = new ImageManifest
        {
            SchemaVersion = 2,
            MediaType = manifestMediaType,
            Config = configBlob.Descriptor,
            Layers = [.. layers.Select(l => l.Descriptor)],
        };
        var manifestBlob = WriteBlob(Serialize(manifest), manifestMediaType);
        return new BuiltImage(_platform, manifest, manifestBlob, config, configBlob, layers);
    }

    /// <summary>The JSON of <paramref name="manifest"/>, e.g. a deliberately wrong variant of a built one.</summary>
    public static byte[] Serialize(ImageManifest manifest) => JsonSerializer.SerializeToUtf8Bytes(manifest, OciJsonContext.Default.ImageManifest);

    /// <summary>The JSON of <paramref name="index"/>.</summary>
    public static byte[] Serialize(ImageIndex index) => JsonSerializer.SerializeToUtf8Bytes(index, OciJsonContext.Default.ImageIndex);

    /// <summary>Writes <paramref name="bytes"/> as a blob file named by its digest into <paramref name="blobDirectory"/>.</summary>
    internal static ImageBlob WriteBlob(string blobDirectory, byte[] bytes, string mediaType)
    {
        var digest = Digest.Of(bytes);
        var path = Path.Combine(blobDirectory, digest.Hex);
        if (!File.Exists(path))
        {
            var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N");
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, path, overwrite: true);
        }

        return new ImageBlob(new Descriptor { MediaType = mediaType, Digest = digest.ToString(), Size = bytes.Length }, path);
    }

    private OciImageBuilder WriteLayer(Action<TarWriter> write, LayerCompression compression)
    {
        var temporary = Path.Combine(_blobDirectory, ".layer-" + Guid.NewGuid().ToString("N"));
        Digest diffId;
        Digest digest;
        long size;
        using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
        {
            using var blob = new HashingWriteStream(file, leaveOpen: true);
            using (var compressor = Compress(blob, compression))
            {
                using var tar = new HashingWriteStream(compressor, leaveOpen: true);
                using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
                {
                    write(writer);
                }

                diffId = tar.FinishHash();
            }

            digest = blob.FinishHash();
            size = blob.Length;
        }

        _layers.Add((MoveIntoPlace(temporary, digest, size, ""), diffId, compression));
        return this;
    }

    private ImageBlob WriteBlob(byte[] bytes, string mediaType) => WriteBlob(_blobDirectory, bytes, mediaType);

    private ImageBlob MoveIntoPlace(string temporary, Digest digest, long size, string mediaType)
    {
        var path = Path.Combine(_blobDirectory, digest.Hex);
        File.Move(temporary, path, overwrite: true);
        return new ImageBlob(new Descriptor { MediaType = mediaType, Digest = digest.ToString(), Size = size }, path);
    }

    private OciImageBuilder With(RunDefaults defaults)
    {
        _defaults = defaults;
        return this;
    }

    private string LayerMediaType(LayerCompression compression) => (_dockerMediaTypes, compression) switch
    {
        (false, LayerCompression.None) => MediaTypes.OciLayerTar,
        (false, LayerCompression.Gzip) => MediaTypes.OciLayerGzip,
        (false, LayerCompression.Zstd) => MediaTypes.OciLayerZstd,
        (true, LayerCompression.Gzip) => MediaTypes.DockerLayerGzip,
        (true, LayerCompression.None) => DockerLayerTar,
        _ => throw new NotSupportedException("Docker v2 media types have no zstd layer type; use OCI media types for zstd layers"),
    };

    private static Stream Compress(Stream blob, LayerCompression compression) => compression switch
    {
        // Fastest: test layers are often big pseudo-random files that do not compress anyway.
        LayerCompression.Gzip => new GZipStream(blob, CompressionLevel.Fastest, leaveOpen: true),
        LayerCompression.Zstd => new ZstdSharp.CompressionStream(blob, level: 1, leaveOpen: true),
        _ => new NonClosingStream(blob),
    };
}
