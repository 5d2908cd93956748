using System.Buffers;
using Cleanroom.Policy.Parsing;
using Cleanroom.Policy.Text;

namespace Cleanroom.Policy.Schema;

/// <summary>
/// Resolves one output path to its canonical form: an absolute guest path, or <c>~/…</c> under the block's home
/// directory. Relative paths and <c>$WORKSPACE</c>/<c>${WORKSPACE}</c> resolve under the repository path;
/// <c>~</c>, <c>$HOME</c> and <c>${HOME}</c> mean the home directory. Nothing else is expanded: these are paths,
/// not shell words. Outputs may not be globs, <c>/</c> or the repository root itself.
/// </summary>
internal static class OutputPathReader
{
    private const string Expected = "a directory or file such as node_modules, ~/.cache/go-build or /var/lib/docker";

    private static readonly SearchValues<char> GlobCharacters = SearchValues.Create("*?[]{}");
    private static readonly string[] HomePrefixes = ["${HOME}", "$HOME", "~"];
    private static readonly string[] WorkspacePrefixes = ["${WORKSPACE}", "$WORKSPACE"];

    public static string? Read(YamlNode node, KeyPath path, SchemaReader reader, string repositoryPath)
    {
        var text = reader.String(node, path, Expected);
        if (text is null)
        {
            return null;
        }

        var (root, rest) = SplitRoot(text, repositoryPath);
        if (rest.AsSpan().IndexOfAny(GlobCharacters) >= 0)
        {
            reader.Error(PolicyErrorKind.OutputGlob, node, path, "outputs are exact paths, not globs", Expected);
            return null;
        }

        if (rest.Contains('$', StringComparison.Ordinal) || rest.StartsWith('~'))
        {
            reader.Error(PolicyErrorKind.InvalidPath, node, path,
                "only ~, $HOME, ${HOME}, $WORKSPACE and ${WORKSPACE} are expanded, and only at the start", Expected);
            return null;
        }

        if (!PosixPath.TrySplit(rest, out var segments, out var problem))
        {
            reader.Error(PolicyErrorKind.InvalidPath, node, path, problem, Expected);
            return null;
        }

        if (root == "~")
        {
            return segments.Length == 0 ? "~" : "~/" + string.Join('/', segments);
        }

        var resolved = root.Length == 0 ? PosixPath.JoinAbsolute(segments) : PosixPath.JoinAbsolute([.. root.Split('/', StringSplitOptions.RemoveEmptyEntries), .. segments]);
        if (resolved == "/" || resolved == repositoryPath)
        {
            reader.Error(PolicyErrorKind.RootOutput, node, path,
                resolved == "/" ? "the whole filesystem cannot be an output" : $"the repository root ({repositoryPath}) cannot be an output",
                Expected);
            return null;
        }

        return resolved;
    }

    /// <summary>Which root the path hangs from: "" (absolute), "~" (home) or the repository path, and the rest.</summary>
    private static (string Root, string Remainder) SplitRoot(string text, string repositoryPath)
    {
        foreach (var prefix in HomePrefixes)
        {
            if (HasPrefix(text, prefix))
            {
                return ("~", text[prefix.Length..]);
            }
        }

        foreach (var prefix in WorkspacePrefixes)
        {
            if (HasPrefix(text, prefix))
            {
                return (repositoryPath, text[prefix.Length..]);
            }
        }

        return text.StartsWith('/') ? (string.Empty, text) : (repositoryPath, text);
    }

    private static bool HasPrefix(string text, string prefix) =>
        text.StartsWith(prefix, StringComparison.Ordinal) && (text.Length == prefix.Length || text[prefix.Length] == '/');
}
