using System.Text.Json.Serialization;

namespace Cleanroom.Oci;

/// <summary>An OCI content descriptor: what a blob or manifest is, its digest and its exact size in bytes.</summary>
public sealed record Descriptor
{
    [JsonPropertyName("mediaType")]
    public string MediaType { get; init; } = "";

    [JsonPropertyName("digest")]
    public string Digest { get; init; } = "";

    [JsonPropertyName("size")]
    public long Size { get; init; }

    [JsonPropertyName("platform")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DescriptorPlatform? Platform { get; init; }

    [JsonPropertyName("annotations")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, string>? Annotations { get; init; }

    /// <summary>The parsed digest; <see cref="ManifestDocument"/> has already validated it.</summary>
    [JsonIgnore]
    public Digest ParsedDigest => Oci.Digest.Parse(Digest);
}

/// <summary>The <c>platform</c> object of an index entry.</summary>
public sealed record DescriptorPlatform
{
    [JsonPropertyName("architecture")]
    public string Architecture { get; init; } = "";

    [JsonPropertyName("os")]
    public string Os { get; init; } = "";

    [JsonPropertyName("variant")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Variant { get; init; }

    public Platform ToPlatform() => new(Os, Architecture, string.IsNullOrEmpty(Variant) ? null : Variant);
}
