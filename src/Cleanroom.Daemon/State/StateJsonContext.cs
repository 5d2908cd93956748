using System.Text.Json.Serialization;

namespace Cleanroom.Daemon.State;

[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(Workspaces.SandboxWorkspace))]
internal sealed partial class StateJsonContext : JsonSerializerContext;
