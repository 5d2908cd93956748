using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Cleanroom.Escaping;
using Cleanroom.Oci;

namespace Cleanroom.Images.Archive;

/// <summary>
/// An image archive, unpacked and verified: an OCI image layout (<c>oci-layout</c>, <c>index.json</c>,
/// <c>blobs/sha256/…</c>) or a <c>docker save</c> tarball (<c>manifest.json</c> naming a config and layer tars),
/// gzip-compressed or not. The archive comes from a user's file, so names, sizes and digests are all checked.
/// </summary>
public sealed class ImageArchive
{
    private const int MaxMetadataBytes = 4 * 1024 * 1024;

    /// <summary>An image archive holds a handful of files per layer; this many entries is an attack on inodes.</summary>
    private const int MaxEntries = 10_000;

    private ImageArchive(Digest digest, string configPath, IReadOnlyList<ArchiveLayer> layers)
    {
        Digest = digest;
        ConfigPath = configPath;
        Layers = layers;
    }

    /// <summary>The platform manifest's digest (for a docker-save archive: the digest of the equivalent OCI manifest).</summary>
    public Digest Digest { get; }

    public string ConfigPath { get; }

    public IReadOnlyList<ArchiveLayer> Layers { get; }

    /// <summary>Unpacks <paramref name="archivePath"/> into <paramref name="directory"/> (which the caller deletes) and reads it.</summary>
    public static ImageArchive Open(string archivePath, string directory, Platform platform, long maxBytes, CancellationToken cancellationToken)
    {
        Unpack(archivePath, directory, maxBytes, cancellationToken);
        if (File.Exists(Path.Combine(directory, "index.json")) && File.Exists(Path.Combine(directory, "oci-layout")))
        {
            return ReadOciLayout(directory, platform);
        }

        if (File.Exists(Path.Combine(directory, "manifest.json")))
        {
            return ReadDockerSave(directory);
        }

        throw new ImageArchiveException("the archive is neither an OCI image layout (oci-layout + index.json) nor a `docker save` tarball (manifest.json)");
    }

    private static void Unpack(string archivePath, string directory, long maxBytes, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        using var file = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        Stream stream = file;
        Span<byte> magic = stackalloc byte[2];
        var gzip = file.Read(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        file.Position = 0;
        if (gzip)
        {
            stream = new GZipStream(file, CompressionMode.Decompress);
        }

        long total = 0;
        var entries = 0;
        try
        {
            using var reader = new TarReader(stream);
            while (reader.GetNextEntry() is { } entry)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (++entries > MaxEntries)
                {
                    throw new ImageArchiveException($"the archive has more than {MaxEntries} entries; image archives hold a few files per layer");
                }

                var name = SafeName(entry.Name);
                if (name is null)
                {
                    continue;
                }

                var target = Path.Combine(directory, name);
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        Directory.CreateDirectory(target);
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        total += entry.Length;
                        if (total > maxBytes)
                        {
                            throw new ImageArchiveException($"the archive unpacks to more than {maxBytes} bytes");
                        }

                        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                        using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write))
                        {
                            entry.DataStream?.CopyTo(output);
                        }

                        break;
                    case TarEntryType.SymbolicLink or TarEntryType.HardLink:
                        // Old `docker save` links duplicate layers to one copy; resolve inside the archive, copy the file.
                        var linked = entry.EntryType == TarEntryType.HardLink || entry.LinkName.StartsWith('/')
                            ? SafeName(entry.LinkName.TrimStart('/'))
                            : SafeName(Path.GetRelativePath("/", Path.GetFullPath(Path.Combine("/", Path.GetDirectoryName(name) ?? "", entry.LinkName))));
                        var source = linked is null ? null : Path.Combine(directory, linked);
                        if (source is null || !File.Exists(source))
                        {
                            throw new ImageArchiveException($"archive entry '{UntrustedText.Escape(entry.Name)}' links to '{UntrustedText.Escape(entry.LinkName)}', which is not a file inside the archive");
                        }

                        // A copy costs what the file costs: links must not multiply the import budget.
                        total += new FileInfo(source).Length;
                        if (total > maxBytes)
                        {
                            throw new ImageArchiveException($"the archive unpacks to more than {maxBytes} bytes");
                        }

                        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                        File.Copy(source, target);
                        break;
                    default:
                        throw new ImageArchiveException($"archive entry '{UntrustedText.Escape(entry.Name)}' is a {entry.EntryType}; image archives hold only files and directories");
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new ImageArchiveException($"the archive is not a valid tar{(gzip ? ".gz" : "")}: {UntrustedText.Escape(ex.Message)}", ex);
        }
        catch (IOException ex) when (ex is not EndOfStreamException)
        {
            // Duplicate names, a file where a directory should be: the archive is inconsistent, not the host broken.
            throw new ImageArchiveException($"the archive cannot be unpacked: {UntrustedText.Escape(ex.Message)}", ex);
        }
    }

    /// <summary>The entry name relative to the archive root, or null for the root itself. Escapes are rejected.</summary>
    private static string? SafeName(string raw)
    {
        var name = raw.Replace('\\', '/');
        while (name.StartsWith("./", StringComparison.Ordinal))
        {
            name = name[2..];
        }

        name = name.TrimEnd('/');
        if (name is "" or ".")
        {
            return null;
        }

        if (name.StartsWith('/') || name.Contains('\0', StringComparison.Ordinal) || name.Split('/').Any(p => p is ".." or ""))
        {
            throw new ImageArchiveException($"archive entry '{UntrustedText.Escape(raw)}' points outside the archive");
        }

        return name;
    }

    private static ImageArchive ReadOciLayout(string directory, Platform platform)
    {
        var index = ManifestDocument.Parse(ReadBounded(Path.Combine(directory, "index.json")), MediaTypes.OciIndex);
        if (index.Index?.Manifests is not { Count: > 0 } entries)
        {
            throw new ImageArchiveException("index.json lists no manifests");
        }

        // A layout may hold one image, or one multi-platform index: follow nested indexes to this platform.
        var descriptor = entries.Count == 1 || entries.All(e => e.Platform is null) ? entries[0] : index.SelectPlatform(platform);
        for (var depth = 0; ; depth++)
        {
            var document = ManifestDocument.Parse(ReadBlob(directory, descriptor), descriptor.MediaType);
            if (document.Manifest is { } manifest)
            {
                var config = VerifiedBlobPath(directory, manifest.Config!);
                var layers = manifest.Layers!.Select((l, i) => new ArchiveLayer(
                    $"{i + 1}/{manifest.Layers!.Count} ({l.Digest[..19]})", MediaTypes.LayerCompressionOf(l.MediaType)!.Value, VerifiedBlobPath(directory, l))).ToList();
                return new ImageArchive(document.Digest, config, layers);
            }

            if (depth == 4)
            {
                throw new ImageArchiveException("index.json nests indexes too deeply");
            }

            descriptor = document.SelectPlatform(platform);
        }
    }

    private static ImageArchive ReadDockerSave(string directory)
    {
        DockerSaveEntry[] entries;
        try
        {
            entries = JsonSerializer.Deserialize(ReadBounded(Path.Combine(directory, "manifest.json")), ArchiveJsonContext.Default.DockerSaveEntryArray) ?? [];
        }
        catch (JsonException ex)
        {
            throw new ImageArchiveException($"manifest.json is not valid: {UntrustedText.Escape(ex.Message)}", ex);
        }

        if (entries.Length != 1)
        {
            throw new ImageArchiveException($"manifest.json lists {entries.Length} images; import takes an archive of exactly one");
        }

        var entry = entries[0];
        var configPath = InsideArchive(directory, entry.Config);
        var configBytes = ReadBounded(configPath);
        var layers = new List<ArchiveLayer>();
        var descriptors = new List<Descriptor>();
        foreach (var (layerName, i) in (entry.Layers ?? []).Select((l, i) => (l, i)))
        {
            var path = InsideArchive(directory, layerName);
            var compression = SniffCompression(path);
            var (digest, size) = HashFile(path);
            descriptors.Add(new Descriptor { MediaType = MediaTypeOf(compression), Digest = digest.ToString(), Size = size });
            layers.Add(new ArchiveLayer($"{i + 1}/{entry.Layers!.Count} ({UntrustedText.Escape(layerName)})", compression, path));
        }

        // docker save has no manifest; the image's identity is the OCI manifest that describes the same blobs.
        var manifest = new ImageManifest
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = Oci.Digest.Of(configBytes).ToString(), Size = configBytes.Length },
            Layers = descriptors,
        };
        var manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest, OciJsonContext.Default.ImageManifest);
        return new ImageArchive(Oci.Digest.Of(manifestBytes), configPath, layers);
    }

    private static string InsideArchive(string directory, string? name)
    {
        var safe = name is null ? null : SafeName(name);
        var path = safe is null ? null : Path.Combine(directory, safe);
        return path is not null && File.Exists(path) ? path : throw new ImageArchiveException($"manifest.json names '{UntrustedText.Escape(name ?? "")}', which is not in the archive");
    }

    private static byte[] ReadBlob(string directory, Descriptor descriptor) => ReadBounded(VerifiedBlobPath(directory, descriptor));

    private static string VerifiedBlobPath(string directory, Descriptor descriptor)
    {
        var digest = Oci.Digest.Parse(descriptor.Digest);
        var path = Path.Combine(directory, "blobs", "sha256", digest.Hex);
        if (!File.Exists(path))
        {
            throw new ImageArchiveException($"blob {digest} is referenced but not in the archive");
        }

        var (actual, size) = HashFile(path);
        if (size != descriptor.Size)
        {
            throw new ImageArchiveException($"blob {digest} is {size} bytes but its descriptor says {descriptor.Size}");
        }

        if (actual != digest)
        {
            throw new ImageArchiveException($"blob {digest} does not match its digest (it hashes to {actual})");
        }

        return path;
    }

    private static (Digest Digest, long Size) HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return (Oci.Digest.FromHash(SHA256.HashData(stream)), stream.Length);
    }

    private static byte[] ReadBounded(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxMetadataBytes)
        {
            throw new ImageArchiveException($"{info.Name} is {info.Length} bytes; metadata files are limited to {MaxMetadataBytes}");
        }

        return File.ReadAllBytes(path);
    }

    private static LayerCompression SniffCompression(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        var n = stream.Read(head);
        return n >= 2 && head[0] == 0x1f && head[1] == 0x8b ? LayerCompression.Gzip
            : n == 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd ? LayerCompression.Zstd
            : LayerCompression.None;
    }

    private static string MediaTypeOf(LayerCompression compression) => compression switch
    {
        LayerCompression.Gzip => MediaTypes.OciLayerGzip,
        LayerCompression.Zstd => MediaTypes.OciLayerZstd,
        _ => MediaTypes.OciLayerTar,
    };
}
