using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy.Schema;

/// <summary>Reads <c>sandbox.image</c>; warns when the reference is not pinned to a digest.</summary>
internal static class ImageSectionReader
{
    private const string Expected = "repository@sha256:<64 hex digits>, e.g. ghcr.io/org/image@sha256:…";

    public static ImageReference? Read(YamlNode node, KeyPath path, SchemaReader reader)
    {
        var mapping = reader.Mapping(node, path, "image: {ref: repository@sha256:<digest>}");
        if (mapping is null)
        {
            return null;
        }

        var keys = reader.Keys(mapping, path, "ref");
        if (!keys.TryGetValue("ref", out var entry))
        {
            reader.Missing(mapping, path, "ref", Expected);
            return null;
        }

        var refPath = path.Key("ref");
        var text = reader.String(entry.Value, refPath, Expected);
        if (text is null)
        {
            return null;
        }

        var image = ImageReference.Parse(text, out var problem);
        if (image is null)
        {
            reader.Error(PolicyErrorKind.InvalidImageRef, entry.Value, refPath, problem, Expected);
            return null;
        }

        if (!image.IsPinned)
        {
            reader.Warning(PolicyErrorKind.UnpinnedImage, entry.Value, refPath,
                $"the image is not pinned to a digest, so a tag push can change it; pin it with `cleanroom image bump-ref {image.Reference}`"
                + $" or use the digest that `cleanroom image resolve {image.Reference}` prints",
                Expected);
        }

        return image;
    }
}
