using Cleanroom.Oci;

namespace Cleanroom.TestSupport;

/// <summary>A multi-platform image: an OCI image index (or a Docker manifest list) over several <see cref="BuiltImage"/>s.</summary>
public sealed class BuiltIndex
{
    private BuiltIndex(ImageIndex index, ImageBlob blob, IReadOnlyList<BuiltImage> images)
    {
        Index = index;
        Blob = blob;
        Images = images;
    }

    public ImageIndex Index { get; }

    public ImageBlob Blob { get; }

    public Digest Digest => Blob.Digest;

    public string MediaType => Blob.Descriptor.MediaType;

    public byte[] Bytes => Blob.ReadAllBytes();

    public IReadOnlyList<BuiltImage> Images { get; }

    /// <summary>Every blob and manifest the index refers to, directly or through its manifests.</summary>
    public IEnumerable<ImageBlob> Blobs => Images.SelectMany(i => i.Blobs.Append(i.ManifestBlob)).DistinctBy(b => b.Digest);

    /// <summary>
    /// Writes the index over <paramref name="images"/> into <paramref name="blobDirectory"/>. It is a Docker manifest
    /// list when every image uses Docker media types, else an OCI index.
    /// </summary>
    public static BuiltIndex Create(string blobDirectory, params BuiltImage[] images)
    {
        ArgumentOutOfRangeException.ThrowIfZero(images.Length);
        var docker = images.All(i => i.ManifestMediaType == MediaTypes.DockerManifest);
        var mediaType = docker ? MediaTypes.DockerManifestList : MediaTypes.OciIndex;
        var index = new ImageIndex { SchemaVersion = 2, MediaType = mediaType, Manifests = [.. images.Select(i => i.IndexEntry)] };
        var blob = OciImageBuilder.WriteBlob(Directory.CreateDirectory(blobDirectory).FullName, OciImageBuilder.Serialize(index), mediaType);
        return new BuiltIndex(index, blob, images);
    }

    /// <summary>Writes an OCI image layout whose <c>index.json</c> names this index (nested, tagged <paramref name="tag"/>).</summary>
    public void WriteOciLayout(string directory, string? tag = "latest") =>
        ImageLayoutWriter.WriteDirectory(directory, Blobs.Append(Blob), Blob.Descriptor, tag);

    public void WriteOciArchive(string path, string? tag = "latest", bool gzip = false) =>
        ImageLayoutWriter.WriteArchive(path, Blobs.Append(Blob), Blob.Descriptor, tag, gzip);
}
