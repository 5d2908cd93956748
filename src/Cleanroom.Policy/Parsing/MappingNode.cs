using System.Collections.Immutable;

namespace Cleanroom.Policy.Parsing;

/// <summary>A YAML mapping whose keys are scalars and unique (the tree reader drops and reports duplicates).</summary>
internal sealed class MappingNode(SourceLocation location, ImmutableArray<MappingEntry> entries, long weight) : YamlNode(location)
{
    public ImmutableArray<MappingEntry> Entries { get; } = entries;

    public override long Weight { get; } = weight;

    public override string Describe() => Entries.Length == 0 ? "an empty mapping" : "a mapping";
}
