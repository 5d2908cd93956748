using Cleanroom.Oci;

namespace Cleanroom.TestSupport;

/// <summary>A single-platform image made by <see cref="OciImageBuilder"/>: manifest, config and layers, all as blob files.</summary>
public sealed class BuiltImage
{
    internal BuiltImage(Platform platform, ImageManifest manifest, ImageBlob manifestBlob, ImageConfigFile config, ImageBlob configBlob, IReadOnlyList<BuiltLayer> layers)
    {
        Platform = platform;
        Manifest = manifest;
        ManifestBlob = manifestBlob;
        Config = config;
        ConfigBlob = configBlob;
        Layers = layers;
    }

    public Platform Platform { get; }

    public ImageManifest Manifest { get; }

    public ImageBlob ManifestBlob { get; }

    public Digest ManifestDigest => ManifestBlob.Digest;

    public string ManifestMediaType => ManifestBlob.Descriptor.MediaType;

    public byte[] ManifestBytes => ManifestBlob.ReadAllBytes();

    public ImageConfigFile Config { get; }

    public ImageBlob ConfigBlob { get; }

    public IReadOnlyList<BuiltLayer> Layers { get; }

    /// <summary>The blobs a manifest push needs first: layers, then config.</summary>
    public IEnumerable<ImageBlob> Blobs => Layers.Select(l => l.Blob).Append(ConfigBlob).DistinctBy(b => b.Digest);

    /// <summary>This image's entry in an index: the manifest descriptor with its platform.</summary>
    public Descriptor IndexEntry => ManifestBlob.Descriptor with
    {
        Platform = new DescriptorPlatform { Os = Platform.Os, Architecture = Platform.Architecture, Variant = Platform.Variant },
    };

    /// <summary>Writes an OCI image layout directory (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/sha256/…</c>).</summary>
    public void WriteOciLayout(string directory, string? tag = "latest") =>
        ImageLayoutWriter.WriteDirectory(directory, Blobs.Append(ManifestBlob), ManifestBlob.Descriptor, tag);

    /// <summary>Writes an OCI image layout as a tarball (gzip-compressed when asked).</summary>
    public void WriteOciArchive(string path, string? tag = "latest", bool gzip = false) =>
        ImageLayoutWriter.WriteArchive(path, Blobs.Append(ManifestBlob), ManifestBlob.Descriptor, tag, gzip);

    /// <summary>
    /// Writes a <c>docker save</c> tarball: <c>manifest.json</c>, the config as <c>&lt;hex&gt;.json</c> and each layer
    /// as <c>&lt;diff-id hex&gt;/layer.tar</c>, uncompressed as docker writes them unless <paramref name="keepCompressedLayers"/>.
    /// </summary>
    public void WriteDockerSaveArchive(string path, string repoTag = "cleanroom/test:latest", bool keepCompressedLayers = false, bool gzip = false) =>
        DockerSaveWriter.Write(path, this, repoTag, keepCompressedLayers, gzip);
}
