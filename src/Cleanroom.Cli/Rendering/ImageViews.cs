using System.Globalization;
using Cleanroom.Api.V1;

namespace Cleanroom.Cli.Rendering;

/// <summary>How images read in <c>image ls</c> and after <c>image pull</c> and <c>image import</c>.</summary>
internal static class ImageViews
{
    public static readonly IReadOnlyList<string> TableHeaders = ["DIGEST", "REF", "SIZE", "LAST_USED", "ROOTFS"];

    public static void WriteTable(TextWriter output, OutputStyle style, IEnumerable<Image> images, DateTimeOffset now)
    {
        var rows = images
            .Select(i => (IReadOnlyList<Cell>)
            [
                ApiText.ShortDigest(i.Digest),
                Refs(i),
                ApiText.Bytes(i.ContentBytes),
                ApiText.Ago(i.LastUsedAt, now),
                i.RootfsPath,
            ])
            .ToList();
        TableWriter.Write(output, style, TableHeaders, rows);
    }

    /// <summary>
    /// <c>pulled image</c> (or <paramref name="outcome"/>), then <c>key=value</c> lines a script can pick apart with
    /// <c>sed -n 's/^digest=//p'</c>.
    /// </summary>
    public static void WriteResult(TextWriter output, string outcome, string reference, Image image)
    {
        output.WriteLine(outcome);
        output.WriteLine("ref=" + reference);
        output.WriteLine("digest=" + image.Digest);
        output.WriteLine("rootfs=" + image.RootfsPath);
        output.WriteLine("size_bytes=" + image.FilesystemBytes.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// One <c>removed DIGEST (REF)</c> line per image (<c>would remove</c> on a dry run), then a summary line with the
    /// count and the bytes freed.
    /// </summary>
    public static void WritePruneResult(TextWriter output, PruneImagesResponse response)
    {
        if (response.Removed.Count == 0)
        {
            output.WriteLine("no unused images");
            return;
        }

        var verb = response.DryRun ? "would remove" : "removed";
        foreach (var image in response.Removed)
        {
            var name = Refs(image);
            output.WriteLine(name.Length > 0 ? $"{verb} {image.Digest} ({name})" : $"{verb} {image.Digest}");
        }

        var count = response.Removed.Count == 1 ? "1 image" : string.Create(CultureInfo.InvariantCulture, $"{response.Removed.Count} images");
        output.WriteLine(response.DryRun
            ? $"would prune {count}, freeing {ApiText.Bytes(response.FreedBytes)}"
            : $"pruned {count}, freed {ApiText.Bytes(response.FreedBytes)}");
    }

    /// <summary>The tags an image is known by; its pinned <c>repo@sha256:…</c> names only when it has no tag.</summary>
    private static string Refs(Image image)
    {
        var tagged = image.Refs.Where(r => !r.Contains('@', StringComparison.Ordinal)).ToList();
        return tagged.Count > 0 ? string.Join(',', tagged) : image.Refs.FirstOrDefault() ?? "";
    }
}
