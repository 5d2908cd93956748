using System.Text.Json.Serialization;

namespace Cleanroom.Vm.Qemu.Qmp;

/// <summary>Source-generated (reflection-free, trimming-safe) serializers for the QMP messages we use.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(QmpCommand))]
[JsonSerializable(typeof(QmpMessage))]
[JsonSerializable(typeof(QmpStatus))]
internal sealed partial class QmpJsonContext : JsonSerializerContext;
