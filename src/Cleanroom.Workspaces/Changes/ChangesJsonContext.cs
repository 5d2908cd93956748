using System.Text.Json.Serialization;

namespace Cleanroom.Workspaces.Changes;

/// <summary>Source-generated JSON for what is stored or sent about changes: no reflection, so it works in the NativeAOT CLI.</summary>
[JsonSerializable(typeof(BaseManifest))]
[JsonSerializable(typeof(BaseEntry))]
[JsonSerializable(typeof(CopyOutResult))]
internal sealed partial class ChangesJsonContext : JsonSerializerContext;
