namespace Cleanroom.Policy.Parsing;

/// <summary>
/// Bounds that keep a hostile or broken policy from costing more than a few milliseconds. A real policy is a few
/// kilobytes with a few hundred nodes; these limits are two orders of magnitude above that.
/// </summary>
internal static class ParserLimits
{
    /// <summary>1 MiB: checked before the file is read or parsed.</summary>
    public const int MaxSourceBytes = 1024 * 1024;

    /// <summary>Nodes in the document, counting every alias as a full copy of what it points to.</summary>
    public const long MaxNodes = 50_000;

    /// <summary>Nesting of lists and mappings; the schema itself is at most seven levels deep.</summary>
    public const int MaxDepth = 64;
}
