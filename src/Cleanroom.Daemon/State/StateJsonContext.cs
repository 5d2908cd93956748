using System.Text.Json.Serialization;

namespace Cleanroom.Daemon.State;

[JsonSerializable(typeof(IReadOnlyList<string>))]
internal sealed partial class StateJsonContext : JsonSerializerContext;
