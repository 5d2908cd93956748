using System.Text.Json;
using Cleanroom.Escaping;

namespace Cleanroom.Oci;

/// <summary>
/// A manifest or index as fetched, parsed and validated: digests well-formed, sizes sane, layers of a type we can
/// apply. Registries and archives are untrusted, so every field used later is checked here once.
/// </summary>
public sealed class ManifestDocument
{
    /// <summary>Manifests larger than this are refused (the distribution spec's recommended limit).</summary>
    public const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>More layers than this is not an image anyone builds; refuse before allocating for them.</summary>
    public const int MaxLayers = 1000;

    private ManifestDocument(Digest digest, string mediaType, byte[] bytes, ImageIndex? index, ImageManifest? manifest)
    {
        Digest = digest;
        MediaType = mediaType;
        Bytes = bytes;
        Index = index;
        Manifest = manifest;
    }

    /// <summary>The digest of <see cref="Bytes"/>: the manifest's identity.</summary>
    public Digest Digest { get; }

    public string MediaType { get; }

    /// <summary>The exact bytes as served (a digest is over these bytes, never a re-serialisation).</summary>
    public byte[] Bytes { get; }

    /// <summary>Set when this is an index / manifest list.</summary>
    public ImageIndex? Index { get; }

    /// <summary>Set when this is an image manifest.</summary>
    public ImageManifest? Manifest { get; }

    /// <summary>
    /// Parses <paramref name="bytes"/>. <paramref name="contentType"/> is the served Content-Type (or the descriptor's
    /// media type); the document's own <c>mediaType</c> field wins when present, and the shape decides when neither
    /// says. Throws <see cref="FormatException"/> with a message fit for the user.
    /// </summary>
    public static ManifestDocument Parse(byte[] bytes, string? contentType)
    {
        if (bytes.Length > MaxBytes)
        {
            throw new FormatException($"the manifest is {bytes.Length} bytes; the limit is {MaxBytes}");
        }

        ManifestProbe probe;
        try
        {
            probe = JsonSerializer.Deserialize(bytes, OciJsonContext.Default.ManifestProbe) ?? throw new FormatException("the manifest is JSON null");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"the manifest is not valid JSON: {UntrustedText.Escape(ex.Message)}", ex);
        }

        if (probe.SchemaVersion != 2)
        {
            throw new FormatException($"unsupported manifest schemaVersion {probe.SchemaVersion} (only 2 is supported; Docker schema 1 images must be re-pushed)");
        }

        OciGrammar.RequireMediaType(probe.MediaType, "the manifest");
        var declared = !string.IsNullOrEmpty(probe.MediaType) ? probe.MediaType : StripParameters(contentType);
        var isIndex = MediaTypes.IsIndex(declared) || (!MediaTypes.IsManifest(declared) && probe.Manifests is not null && probe.Layers is null);
        var digest = Digest.Of(bytes);
        try
        {
            if (isIndex)
            {
                var index = JsonSerializer.Deserialize(bytes, OciJsonContext.Default.ImageIndex)!;
                var entries = index.Manifests ?? throw new FormatException("the index has no manifests list");
                foreach (var entry in entries)
                {
                    ValidateDescriptor(entry, "index entry");
                }

                return new ManifestDocument(digest, MediaTypes.IsIndex(declared) ? declared! : MediaTypes.OciIndex, bytes, index, null);
            }

            var manifest = JsonSerializer.Deserialize(bytes, OciJsonContext.Default.ImageManifest)!;
            var config = manifest.Config ?? throw new FormatException("the manifest has no config descriptor");
            ValidateDescriptor(config, "config");
            var layers = manifest.Layers ?? throw new FormatException("the manifest has no layers list");
            if (layers.Count > MaxLayers)
            {
                throw new FormatException($"the manifest lists {layers.Count} layers; the limit is {MaxLayers}");
            }

            foreach (var layer in layers)
            {
                ValidateDescriptor(layer, "layer");
                if (MediaTypes.LayerCompressionOf(layer.MediaType) is null)
                {
                    throw new FormatException($"layer {layer.Digest} has media type '{layer.MediaType}', which is not an image layer this system can apply (tar, tar+gzip or tar+zstd)");
                }
            }

            return new ManifestDocument(digest, MediaTypes.IsManifest(declared) ? declared! : MediaTypes.OciManifest, bytes, null, manifest);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"the manifest does not match the OCI schema: {UntrustedText.Escape(ex.Message)}", ex);
        }
    }

    /// <summary>Picks the entry of an index for <paramref name="platform"/>, or explains what the index offers.</summary>
    public Descriptor SelectPlatform(Platform platform)
    {
        var entries = Index?.Manifests ?? throw new InvalidOperationException("not an index");
        var match = entries.FirstOrDefault(e => MediaTypes.IsManifest(e.MediaType) && e.Platform is not null && platform.Matches(e.Platform.ToPlatform()));
        if (match is not null)
        {
            return match;
        }

        var offered = entries.Where(e => e.Platform is not null).Select(e => e.Platform!.ToPlatform().ToString()).Distinct().ToList();
        throw new FormatException($"the image has no {platform} variant; it offers: {(offered.Count == 0 ? "no platforms" : string.Join(", ", offered))}");
    }

    private static void ValidateDescriptor(Descriptor descriptor, string what)
    {
        if (!Oci.Digest.TryParse(descriptor.Digest, out _))
        {
            throw new FormatException($"a {what} has digest {OciGrammar.Shown(descriptor.Digest)}, which is not sha256: and 64 hex digits");
        }

        OciGrammar.RequireMediaType(descriptor.MediaType, $"{what} {descriptor.Digest}");
        if (descriptor.Platform is { } platform)
        {
            OciGrammar.RequirePlatform(platform.Os, platform.Architecture, platform.Variant, $"{what} {descriptor.Digest}");
        }

        if (descriptor.Size < 0)
        {
            throw new FormatException($"{what} {descriptor.Digest} has a negative size ({descriptor.Size})");
        }
    }

    private static string? StripParameters(string? contentType) =>
        contentType?.Split(';', 2)[0].Trim();
}
