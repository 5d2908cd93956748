using System.Text.Json.Serialization;

namespace Cleanroom.Images.Registry;

/// <summary>The distribution spec's error body: <c>{"errors":[{"code":…,"message":…,"detail":…}]}</c>.</summary>
internal sealed record RegistryErrorBody
{
    [JsonPropertyName("errors")]
    public List<RegistryErrorEntry>? Errors { get; init; }
}

/// <summary>One entry of <see cref="RegistryErrorBody"/>; <c>detail</c> is free-form and not shown.</summary>
internal sealed record RegistryErrorEntry
{
    [JsonPropertyName("code")]
    public string? Code { get; init; }

    [JsonPropertyName("message")]
    public string? Message { get; init; }
}
