using System.Text.Json.Serialization;

namespace Cleanroom.Images.Archive;

/// <summary>One element of a <c>docker save</c> archive's manifest.json.</summary>
public sealed record DockerSaveEntry
{
    [JsonPropertyName("Config")]
    public string? Config { get; init; }

    [JsonPropertyName("RepoTags")]
    public List<string>? RepoTags { get; init; }

    [JsonPropertyName("Layers")]
    public List<string>? Layers { get; init; }
}

[JsonSerializable(typeof(DockerSaveEntry[]))]
internal sealed partial class ArchiveJsonContext : JsonSerializerContext;
