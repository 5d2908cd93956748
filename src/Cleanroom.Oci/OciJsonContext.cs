using System.Text.Json.Serialization;

namespace Cleanroom.Oci;

/// <summary>Source-generated JSON for the OCI documents (NativeAOT-safe, no reflection).</summary>
[JsonSourceGenerationOptions(ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow, MaxDepth = 32)]
[JsonSerializable(typeof(ImageManifest))]
[JsonSerializable(typeof(ImageIndex))]
[JsonSerializable(typeof(ImageConfigFile))]
[JsonSerializable(typeof(ManifestProbe))]
[JsonSerializable(typeof(RunDefaults))]
public sealed partial class OciJsonContext : JsonSerializerContext;

/// <summary>Just enough of a manifest to tell an index from an image manifest.</summary>
public sealed record ManifestProbe
{
    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; }

    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; }

    [JsonPropertyName("manifests")]
    public System.Text.Json.JsonElement? Manifests { get; init; }

    [JsonPropertyName("layers")]
    public System.Text.Json.JsonElement? Layers { get; init; }
}
