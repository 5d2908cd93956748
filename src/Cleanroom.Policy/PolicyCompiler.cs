using Cleanroom.Policy.Parsing;
using Cleanroom.Policy.Schema;

namespace Cleanroom.Policy;

/// <summary>
/// Compiles policy text into a <see cref="CompiledPolicy"/>. Pure apart from the optional input lookup in
/// <see cref="PolicyCompileOptions.RepositoryFiles"/>: it never throws for bad input, it reports every problem it
/// can find in one run, each with a position, a key path, what was found and what was expected.
/// </summary>
public static class PolicyCompiler
{
    /// <summary>Compiles YAML text; <paramref name="sourceName"/> labels the positions in diagnostics.</summary>
    public static PolicyCompileResult Compile(string text, string sourceName, PolicyCompileOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(sourceName);
        var diagnostics = new DiagnosticBag();
        if (!PolicySourceText.IsWithinLimit(text, sourceName, diagnostics))
        {
            return Finish(null, diagnostics);
        }

        return CompileText(text, sourceName, options ?? PolicyCompileOptions.Default, diagnostics);
    }

    /// <summary>Compiles raw file bytes, which must be UTF-8 (a byte-order mark is allowed) and at most 1 MiB.</summary>
    public static PolicyCompileResult Compile(ReadOnlySpan<byte> utf8, string sourceName, PolicyCompileOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        var diagnostics = new DiagnosticBag();
        var text = PolicySourceText.Decode(utf8, sourceName, diagnostics);
        return text is null
            ? Finish(null, diagnostics)
            : CompileText(text, sourceName, options ?? PolicyCompileOptions.Default, diagnostics);
    }

    private static PolicyCompileResult CompileText(string text, string sourceName, PolicyCompileOptions options, DiagnosticBag diagnostics)
    {
        var root = YamlTreeReader.Read(text, sourceName, diagnostics);
        if (root is null)
        {
            return Finish(null, diagnostics);
        }

        var policy = PolicyDocumentReader.Read(root, new SchemaReader(diagnostics), options);
        return Finish(policy, diagnostics);
    }

    private static PolicyCompileResult Finish(CompiledPolicy? policy, DiagnosticBag diagnostics) =>
        new(diagnostics.HasErrors ? null : policy, diagnostics.ToImmutable());
}
