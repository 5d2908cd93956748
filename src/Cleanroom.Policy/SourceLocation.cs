namespace Cleanroom.Policy;

/// <summary>A 1-based line and column in a named source (a file path or a label such as "compiled policy").</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    /// <summary>The start of a source: used for errors about the file as a whole.</summary>
    public static SourceLocation StartOf(string file) => new(file, 1, 1);

    /// <summary>The <c>file:line:column</c> form that editors and terminals turn into links.</summary>
    public override string ToString() => $"{File}:{Line}:{Column}";
}
