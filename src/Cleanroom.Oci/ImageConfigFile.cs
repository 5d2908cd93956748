using System.Text.Json.Serialization;

namespace Cleanroom.Oci;

/// <summary>The image config blob: platform, run defaults and the uncompressed layer digests.</summary>
public sealed record ImageConfigFile
{
    [JsonPropertyName("architecture")]
    public string? Architecture { get; init; }

    [JsonPropertyName("os")]
    public string? Os { get; init; }

    [JsonPropertyName("variant")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Variant { get; init; }

    [JsonPropertyName("config")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RunDefaults? Config { get; init; }

    [JsonPropertyName("rootfs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RootFsSection? RootFs { get; init; }
}

/// <summary>The config's <c>config</c> object: what a container runs by default. Used as execution defaults.</summary>
public sealed record RunDefaults
{
    [JsonPropertyName("Env")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? Env { get; init; }

    [JsonPropertyName("Entrypoint")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? Entrypoint { get; init; }

    [JsonPropertyName("Cmd")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? Cmd { get; init; }

    [JsonPropertyName("WorkingDir")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? WorkingDir { get; init; }

    [JsonPropertyName("User")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? User { get; init; }
}

/// <summary>The config's <c>rootfs</c> object.</summary>
public sealed record RootFsSection
{
    [JsonPropertyName("type")]
    public string Type { get; init; } = "layers";

    [JsonPropertyName("diff_ids")]
    public List<string>? DiffIds { get; init; }
}
