using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cleanroom.Vm.Qemu.Qmp;

/// <summary>A command as sent: <c>{"execute": "…", "arguments": {…}}</c>.</summary>
internal sealed record QmpCommand(
    [property: JsonPropertyName("execute")] string Execute,
    [property: JsonPropertyName("arguments"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Arguments = null);

/// <summary>
/// Any line QEMU sends: the greeting (<c>QMP</c>), a reply (<c>return</c> or <c>error</c>) or an asynchronous
/// <c>event</c>. Exactly one of the members is set in a well-formed message.
/// </summary>
internal sealed class QmpMessage
{
    [JsonPropertyName("QMP")]
    public QmpGreeting? Greeting { get; init; }

    [JsonPropertyName("return")]
    public JsonElement? Return { get; init; }

    [JsonPropertyName("error")]
    public QmpError? Error { get; init; }

    [JsonPropertyName("event")]
    public string? Event { get; init; }
}

internal sealed record QmpGreeting(QmpVersion? Version);

internal sealed record QmpVersion(QmpQemuVersion? Qemu, string? Package);

internal sealed record QmpQemuVersion(int Major, int Minor, int Micro);

internal sealed record QmpError(string? Class, string? Desc);

/// <summary>The answer to <c>query-status</c>, e.g. status "running", "paused", "inmigrate", "shutdown".</summary>
public sealed record QmpStatus(string Status, bool Running);
