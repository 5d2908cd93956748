using System.Runtime.Versioning;
using Cleanroom.Escaping;
using Cleanroom.Images.Layers;

namespace Cleanroom.Cli.Files;

/// <summary>
/// Moves an extracted copy from its staging directory to where docker cp semantics put it: renamed into place when
/// nothing is there, merged into an existing directory, or replacing an existing file or symlink (the node itself,
/// never what a symlink points at). Every move is planned first, so a directory/non-directory clash fails before
/// anything has moved; the moves themselves are renames within one file system.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class Placement
{
    /// <summary>Puts <paramref name="source"/> (staged, ours) at <paramref name="target"/>.</summary>
    public static void Move(string source, string target, CancellationToken ct)
    {
        var moves = new List<(string From, string To, bool Replace)>();
        Plan(source, HostNodes.KindOf(source) == HostNodeKind.Directory, target, moves);
        foreach (var (from, to, replace) in moves)
        {
            ct.ThrowIfCancellationRequested();
            var errno = HostNodes.TryRename(from, to, replace);
            if (errno != 0)
            {
                throw new CpException($"could not move the copy into place at {UntrustedText.Quote(to)}: {HostNodes.Describe(errno)}");
            }
        }
    }

    private static void Plan(string source, bool sourceIsDirectory, string target, List<(string, string, bool)> moves)
    {
        switch (HostNodes.KindOf(target))
        {
            case HostNodeKind.Missing:
                moves.Add((source, target, false));
                break;
            case HostNodeKind.Directory when sourceIsDirectory:
                // An existing directory keeps its own mode and times; only its contents are merged.
                // Listed through libc: a name that is not UTF-8 must name the same node on both sides.
                foreach (var name in LibC.ListDirectory(source).Order(StringComparer.Ordinal))
                {
                    var child = string.Concat(source, "/", name);
                    Plan(child, HostNodes.KindOf(child) == HostNodeKind.Directory, string.Concat(target, "/", name), moves);
                }

                break;
            case HostNodeKind.Directory:
                throw new CpException($"cannot overwrite directory {UntrustedText.Quote(target)} with a non-directory");
            default:
                if (sourceIsDirectory)
                {
                    throw new CpException($"cannot overwrite non-directory {UntrustedText.Quote(target)} with a directory");
                }

                moves.Add((source, target, true));
                break;
        }
    }
}
