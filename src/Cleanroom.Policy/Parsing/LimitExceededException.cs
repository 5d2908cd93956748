namespace Cleanroom.Policy.Parsing;

/// <summary>Aborts tree reading at the first limit breach; converted to a diagnostic by <see cref="YamlTreeReader"/>.</summary>
#pragma warning disable CA1032, CA1064 // Internal control flow only: never thrown past the reader, never serialised.
internal sealed class LimitExceededException(PolicyErrorKind kind, SourceLocation location, string path, string message, string found, string expected)
    : Exception(message)
#pragma warning restore CA1032, CA1064
{
    public PolicyErrorKind Kind { get; } = kind;

    public SourceLocation Location { get; } = location;

    public string Path { get; } = path;

    public string Found { get; } = found;

    public string Expected { get; } = expected;
}
