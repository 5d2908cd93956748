using Cleanroom.Policy.Parsing;
using Cleanroom.Policy.Text;

namespace Cleanroom.Policy.Schema;

/// <summary>
/// Reads the optional <c>repository</c> block; absent keys keep <see cref="RepositorySettings.Default"/>.
/// <c>mode</c> is another spelling of <c>enabled</c> (<c>current-repo</c> = true, <c>none</c> = false), so it adds
/// nothing to the compiled form or its hash; both given must agree.
/// </summary>
internal static class RepositorySectionReader
{
    /// <summary>Guest directories the checkout must not cover: the guest's own system would vanish under it.</summary>
    private static readonly string[] SystemDirectories = ["bin", "boot", "dev", "etc", "lib", "lib64", "proc", "run", "sbin", "sys", "usr", "var"];

    public static RepositorySettings Read(YamlNode node, KeyPath path, SchemaReader reader)
    {
        var defaults = RepositorySettings.Default;
        var mapping = reader.Mapping(node, path, "a mapping with enabled, mode, remote, path and submodules");
        if (mapping is null)
        {
            return defaults;
        }

        var keys = reader.Keys(mapping, path, "enabled", "mode", "remote", "path", "submodules");
        var enabled = keys.TryGetValue("enabled", out var e) ? reader.Boolean(e.Value, path.Key("enabled")) : null;
        if (keys.TryGetValue("mode", out var m) && ReadMode(m.Value, path.Key("mode"), reader) is { } modeEnabled)
        {
            if (enabled is { } explicitEnabled && explicitEnabled != modeEnabled)
            {
                reader.Error(PolicyErrorKind.InvalidValue, m.Value, path.Key("mode"), $"mode contradicts enabled: {(explicitEnabled ? "true" : "false")}", "current-repo with enabled: true, or none with enabled: false");
            }

            enabled = modeEnabled;
        }

        var submodules = keys.TryGetValue("submodules", out var s) ? reader.Boolean(s.Value, path.Key("submodules")) : null;
        var remote = keys.TryGetValue("remote", out var r) ? ReadRemote(r.Value, path.Key("remote"), reader) : null;
        var checkoutPath = keys.TryGetValue("path", out var p) ? ReadPath(p.Value, path.Key("path"), reader) : null;
        return new RepositorySettings(
            enabled ?? defaults.Enabled,
            remote ?? defaults.Remote,
            checkoutPath ?? defaults.Path,
            submodules ?? defaults.Submodules);
    }

    private static bool? ReadMode(YamlNode node, KeyPath path, SchemaReader reader)
    {
        const string expected = "current-repo or none";
        return reader.String(node, path, expected) switch
        {
            null => null,
            "current-repo" => true,
            "none" => false,
            _ => Invalid(),
        };

        bool? Invalid()
        {
            reader.Error(PolicyErrorKind.InvalidValue, node, path, "unknown repository mode", expected);
            return null;
        }
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
        else if (problem is null && SystemDirectories.Contains(segments[0], StringComparer.Ordinal))
        {
            problem = $"/{segments[0]} belongs to the guest's system; check the repository out elsewhere, e.g. /workspace";
        }
        else if (problem is null && (text.Length > 256 || segments.Any(s => s.Any(char.IsWhiteSpace))))
        {
            problem = "the checkout path must be at most 256 characters without spaces (it is passed on the guest kernel's command line)";
        }

        if (problem is not null)
        {
            reader.Error(PolicyErrorKind.InvalidPath, node, path, problem, expected);
            return null;
        }

        return PosixPath.JoinAbsolute(segments);
    }
}
