using System.Formats.Tar;
using System.Text.Json;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.IntegrationTests.Workspaces;

/// <summary>
/// The Debian test image again, with one change to its config: a default user, as many CI images set one. Its single
/// layer is reused byte for byte.
/// </summary>
internal static class ImageWithUser
{
    /// <summary>Writes the derived image as an OCI archive at <paramref name="archive"/>.</summary>
    public static void Write(string sourceArchive, string user, string workDirectory, string archive)
    {
        var blobs = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using (var reader = new TarReader(File.OpenRead(sourceArchive)))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is { } data && entry.Name.Contains("blobs/sha256/", StringComparison.Ordinal))
                {
                    using var copy = new MemoryStream();
                    data.CopyTo(copy);
                    blobs["sha256:" + Path.GetFileName(entry.Name)] = copy.ToArray();
                }
            }
        }

        var manifest = blobs.Values.Select(TryManifest).Single(m => m is not null)!;
        var config = JsonSerializer.Deserialize(blobs[manifest.Config!.Digest], OciJsonContext.Default.ImageConfigFile)!;
        var defaults = config.Config ?? new RunDefaults();
        var layer = Assert.Single(manifest.Layers!);
        var builder = new OciImageBuilder(Path.Combine(workDirectory, "blobs"))
            .WithEnv([.. defaults.Env ?? []])
            .WithCmd([.. defaults.Cmd ?? []])
            .WithWorkingDir(defaults.WorkingDir ?? "/")
            .WithUser(user)
            .AddLayerBlob(blobs[layer.Digest], LayerCompression.Gzip, Digest.Parse(Assert.Single(config.RootFs!.DiffIds!)));
        builder.Build().WriteOciArchive(archive);
    }

    private static ImageManifest? TryManifest(byte[] blob)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize(blob, OciJsonContext.Default.ImageManifest);
            return manifest?.Config is not null && manifest.Layers is { Count: > 0 } ? manifest : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
