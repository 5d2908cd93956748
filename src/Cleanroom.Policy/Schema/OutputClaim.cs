using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy.Schema;

/// <summary>One resolved output path and the block and place that declared it.</summary>
internal sealed record OutputClaim(string Path, YamlNode Node, KeyPath KeyPath, string BlockName);
