using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Cleanroom.Oci;

namespace Cleanroom.TestSupport;

/// <summary>Writes OCI image layouts (image-spec "image-layout"), as a directory or a tarball.</summary>
internal static class ImageLayoutWriter
{
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    private static readonly byte[] OciLayoutFile = Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}");

    public static void WriteDirectory(string directory, IEnumerable<ImageBlob> blobs, Descriptor top, string? tag)
    {
        var blobDirectory = Directory.CreateDirectory(Path.Combine(directory, "blobs", "sha256")).FullName;
        foreach (var blob in blobs.DistinctBy(b => b.Digest))
        {
            File.Copy(blob.Path, Path.Combine(blobDirectory, blob.Digest.Hex), overwrite: true);
        }

        File.WriteAllBytes(Path.Combine(directory, "oci-layout"), OciLayoutFile);
        File.WriteAllBytes(Path.Combine(directory, "index.json"), IndexJson(top, tag));
    }

    public static void WriteArchive(string path, IEnumerable<ImageBlob> blobs, Descriptor top, string? tag, bool gzip)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        using var output = gzip ? new GZipStream(file, CompressionLevel.Fastest) : (Stream)new NonClosingStream(file);
        using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        WriteBytes(writer, "oci-layout", OciLayoutFile);
        WriteBytes(writer, "index.json", IndexJson(top, tag));
        writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "blobs/") { Mode = LayerContents.FileMode755 });
        writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "blobs/sha256/") { Mode = LayerContents.FileMode755 });
        foreach (var blob in blobs.DistinctBy(b => b.Digest))
        {
            WriteFile(writer, "blobs/sha256/" + blob.Digest.Hex, blob.Path);
        }
    }

    /// <summary>Adds <paramref name="path"/>'s content as a plain 0644 file named <paramref name="name"/>.</summary>
    internal static void WriteFile(TarWriter writer, string name, string path)
    {
        using var content = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = LayerContents.FileMode644, DataStream = content });
    }

    internal static void WriteBytes(TarWriter writer, string name, byte[] bytes)
    {
        using var content = new MemoryStream(bytes, writable: false);
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = LayerContents.FileMode644, DataStream = content });
    }

    private static byte[] IndexJson(Descriptor top, string? tag)
    {
        var entry = tag is null ? top : top with { Annotations = new Dictionary<string, string> { [RefNameAnnotation] = tag } };
        return OciImageBuilder.Serialize(new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = [entry] });
    }
}
