using System.Collections.Immutable;

namespace Cleanroom.Policy.Parsing;

/// <summary>A YAML sequence (a list).</summary>
internal sealed class SequenceNode(SourceLocation location, ImmutableArray<YamlNode> items, long weight) : YamlNode(location)
{
    public ImmutableArray<YamlNode> Items { get; } = items;

    public override long Weight { get; } = weight;

    public override string Describe() => Items.Length == 0 ? "an empty list" : "a list";
}
