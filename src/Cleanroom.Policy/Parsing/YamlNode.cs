namespace Cleanroom.Policy.Parsing;

/// <summary>
/// A node of a parsed policy document with the position where it starts. The schema readers walk this tree
/// rather than YamlDotNet's object model so that every error can name a line and column.
/// </summary>
internal abstract class YamlNode(SourceLocation location)
{
    public SourceLocation Location { get; } = location;

    /// <summary>How many nodes this subtree stands for; aliases to it count it again (alias-bomb guard).</summary>
    public abstract long Weight { get; }

    /// <summary>What this node is, for the "found …" part of an error, e.g. <c>a list</c> or <c>integer 8</c>.</summary>
    public abstract string Describe();
}
