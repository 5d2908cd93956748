using Cleanroom.Policy.Parsing;
using Cleanroom.Policy.Text;

namespace Cleanroom.Policy.Schema;

/// <summary>Reads the optional <c>repository</c> block; absent keys keep <see cref="RepositorySettings.Default"/>.</summary>
internal static class RepositorySectionReader
{
    public static RepositorySettings Read(YamlNode node, KeyPath path, SchemaReader reader)
    {
        var defaults = RepositorySettings.Default;
        var mapping = reader.Mapping(node, path, "a mapping with enabled, remote, path and submodules");
        if (mapping is null)
        {
            return defaults;
        }

        var keys = reader.Keys(mapping, path, "enabled", "remote", "path", "submodules");
        var enabled = keys.TryGetValue("enabled", out var e) ? reader.Boolean(e.Value, path.Key("enabled")) : null;
        var submodules = keys.TryGetValue("submodules", out var s) ? reader.Boolean(s.Value, path.Key("submodules")) : null;
        var remote = keys.TryGetValue("remote", out var r) ? ReadRemote(r.Value, path.Key("remote"), reader) : null;
        var checkoutPath = keys.TryGetValue("path", out var p) ? ReadPath(p.Value, path.Key("path"), reader) : null;
        return new RepositorySettings(
            enabled ?? defaults.Enabled,
            remote ?? defaults.Remote,
            checkoutPath ?? defaults.Path,
            submodules ?? defaults.Submodules);
    }

    private static string? ReadRemote(YamlNode node, KeyPath path, SchemaReader reader)
    {
        const string expected = "a git remote name such as origin";
        var remote = reader.String(node, path, expected);
        if (remote is not null && (remote.Length == 0 || remote.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            reader.Error(PolicyErrorKind.InvalidValue, node, path, "a remote name is non-empty and has no spaces", expected);
            return null;
        }

        return remote;
    }

    private static string? ReadPath(YamlNode node, KeyPath path, SchemaReader reader)
    {
        const string expected = "an absolute guest path such as /workspace";
        var text = reader.String(node, path, expected);
        if (text is null)
        {
            return null;
        }

        var problem = !text.StartsWith('/') ? "the checkout path must be absolute"
            : text.Contains('$', StringComparison.Ordinal) ? "variables are not expanded in the checkout path"
            : null;
        string[] segments = [];
        if (problem is null && !PosixPath.TrySplit(text, out segments, out var splitProblem))
        {
            problem = splitProblem;
        }
        else if (problem is null && segments.Length == 0)
        {
            problem = "the repository cannot be checked out at /";
        }

        if (problem is not null)
        {
            reader.Error(PolicyErrorKind.InvalidPath, node, path, problem, expected);
            return null;
        }

        return PosixPath.JoinAbsolute(segments);
    }
}
