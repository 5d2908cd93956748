using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Cleanroom.Oci;

namespace Cleanroom.TestSupport;

/// <summary>Writes the classic <c>docker save</c> tarball layout (manifest.json, config, one directory per layer).</summary>
internal static class DockerSaveWriter
{
    public static void Write(string path, BuiltImage image, string repoTag, bool keepCompressedLayers, bool gzip)
    {
        var scratch = Directory.CreateDirectory(path + ".layers-" + Guid.NewGuid().ToString("N")[..8]).FullName;
        try
        {
            using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            using var output = gzip ? new GZipStream(file, CompressionLevel.Fastest) : (Stream)new NonClosingStream(file);
            using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
            var configName = image.ConfigBlob.Digest.Hex + ".json";
            ImageLayoutWriter.WriteFile(writer, configName, image.ConfigBlob.Path);
            var layerNames = new List<string>();
            foreach (var layer in image.Layers)
            {
                var directory = (keepCompressedLayers ? layer.Blob.Digest : layer.DiffId).Hex;
                var name = directory + "/layer.tar";
                if (layerNames.Contains(name))
                {
                    layerNames.Add(name);
                    continue;
                }

                writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, directory + "/") { Mode = LayerContents.FileMode755 });
                var source = keepCompressedLayers || layer.Compression == LayerCompression.None ? layer.Blob.Path : Decompress(layer, scratch);
                ImageLayoutWriter.WriteFile(writer, name, source);
                layerNames.Add(name);
            }

            ImageLayoutWriter.WriteBytes(writer, "manifest.json", ManifestJson(configName, repoTag, layerNames));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static string Decompress(BuiltLayer layer, string scratch)
    {
        var target = Path.Combine(scratch, layer.DiffId.Hex + ".tar");
        using var blob = layer.Blob.OpenRead();
        using Stream tar = layer.Compression == LayerCompression.Gzip
            ? new GZipStream(blob, CompressionMode.Decompress)
            : new ZstdSharp.DecompressionStream(blob);
        using var output = File.Create(target);
        tar.CopyTo(output);
        return target;
    }

    private static byte[] ManifestJson(string config, string repoTag, IReadOnlyList<string> layers)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            writer.WriteStartObject();
            writer.WriteString("Config", config);
            writer.WriteStartArray("RepoTags");
            writer.WriteStringValue(repoTag);
            writer.WriteEndArray();
            writer.WriteStartArray("Layers");
            foreach (var layer in layers)
            {
                writer.WriteStringValue(layer);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndArray();
        }

        return buffer.ToArray();
    }
}
