using System.Buffers;
using Cleanroom.Policy.Parsing;
using Cleanroom.Policy.Text;

namespace Cleanroom.Policy.Schema;

/// <summary>
/// Reads one block input: a repository-relative file or glob (<c>*</c> and <c>?</c> within a segment, <c>**</c> as a
/// whole segment for any depth). When the compiler was given the repository's files, the pattern must match one.
/// </summary>
internal static class InputPatternReader
{
    private static readonly SearchValues<char> UnsupportedGlobCharacters = SearchValues.Create("[]{}");

    private const string Expected = "a repository-relative file or glob such as package-lock.json or src/**/*.go";

    public static string? Read(YamlNode node, KeyPath path, SchemaReader reader, IRepositoryFiles? files)
    {
        var text = reader.String(node, path, Expected);
        if (text is null)
        {
            return null;
        }

        var pattern = Normalize(text, out var kind, out var problem);
        if (pattern is null)
        {
            reader.Error(kind, node, path, problem, Expected);
            return null;
        }

        switch (files?.Match(pattern) ?? InputMatch.Matched)
        {
            case InputMatch.NotFound:
                reader.Error(PolicyErrorKind.InputNotFound, node, path,
                    GlobSegment.HasWildcard(pattern) ? "no file in the repository matches this pattern" : "this file does not exist in the repository",
                    "an existing file, or a glob that matches at least one");
                return null;
            case InputMatch.IsDirectory:
                reader.Error(PolicyErrorKind.InputNotFound, node, path,
                    $"this is a directory; inputs are files, so write {pattern}/** to use everything in it", "a file or a glob");
                return null;
            case InputMatch.SearchTooLarge:
                reader.Error(PolicyErrorKind.InputNotFound, node, path,
                    $"no match found within the first {DirectoryRepositoryFiles.MaxEntriesVisited} entries searched; make the pattern more specific",
                    "a narrower glob");
                return null;
            default:
                return pattern;
        }
    }

    private static string? Normalize(string text, out PolicyErrorKind kind, out string problem)
    {
        kind = PolicyErrorKind.InvalidPath;
        if (text.StartsWith('/') || text.StartsWith('~') || text.Contains('$', StringComparison.Ordinal))
        {
            problem = "inputs are relative to the repository root; no absolute paths or variables";
            return null;
        }

        if (!PosixPath.TrySplit(text, out var segments, out problem))
        {
            return null;
        }

        if (segments.Length == 0)
        {
            problem = "the repository root is not a file";
            return null;
        }

        kind = PolicyErrorKind.InvalidGlob;
        if (text.AsSpan().IndexOfAny(UnsupportedGlobCharacters) >= 0)
        {
            problem = "only *, ? and ** are supported in input globs";
            return null;
        }

        if (segments.Any(s => s.Contains("**", StringComparison.Ordinal) && s != "**"))
        {
            problem = "** must be a whole path segment, as in src/**/*.ts";
            return null;
        }

        return string.Join('/', segments);
    }
}
