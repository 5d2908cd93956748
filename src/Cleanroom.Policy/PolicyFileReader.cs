using Cleanroom.Policy.Files;
using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy;

/// <summary>
/// Reads a policy file, which a pull request controls as much as any other file of the repository. It must be a
/// regular file reached without a symbolic link anywhere below the repository root: a link could point at a
/// secret (whose content would then be echoed in parse errors) or at a FIFO (which blocks the reader forever).
/// Anything else is refused before a byte is read, with an error that names the path and what it is. The size
/// limit is checked before reading, and nothing past it is read.
/// A file outside the repository (an explicit <c>--policy</c> there) is the operator's choice: only its own name
/// must not be a link.
/// </summary>
public static class PolicyFileReader
{
    /// <summary>Reads <paramref name="path"/>; null with <paramref name="error"/> saying why when it is refused or unreadable.</summary>
    public static byte[]? Read(string path, string repositoryDirectory, out PolicyDiagnostic? error)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(repositoryDirectory);
        var root = Path.GetFullPath(repositoryDirectory);
        var full = Path.GetFullPath(path, root);
        var label = PolicyLoader.DisplayPath(full);
        var relative = Path.GetRelativePath(root, full);
        var inside = !Path.IsPathRooted(relative) && relative != ".." && !relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        var (baseDirectory, components) = inside
            ? (root, relative.Split(Path.DirectorySeparatorChar))
            : (Path.GetDirectoryName(full)!, [Path.GetFileName(full)]);

        var result = OperatingSystem.IsLinux()
            ? NoFollowFileReader.Read(baseDirectory, components, ParserLimits.MaxSourceBytes)
            : ManagedFileReader.Read(baseDirectory, components, ParserLimits.MaxSourceBytes);

        string Shown(int index) => index < 0 ? baseDirectory : inside ? string.Join('/', components[..(index + 1)]) : label;
        error = null;
        switch (result)
        {
            case FileReadResult.Read read:
                return read.Bytes;
            case FileReadResult.Refused refused:
                var requirement = inside ? "a regular file inside the repository" : "a regular file";
                error = Error(PolicyErrorKind.NotARegularFile, label,
                    $"{Shown(refused.Index)} is {refused.Kind.Describe()}; the policy must be {requirement}",
                    refused.Kind.Describe(), requirement);
                return null;
            case FileReadResult.TooLarge tooLarge:
                var bag = new DiagnosticBag();
                PolicySourceText.IsWithinLimit(tooLarge.Size, label, bag);
                error = bag.ToImmutable()[0];
                return null;
            case FileReadResult.Failed failed:
                error = Error(PolicyErrorKind.UnreadableFile, label,
                    $"the policy file cannot be read: {Shown(failed.Index)}: {failed.Reason}", "an unreadable file", "a readable file");
                return null;
            default:
                throw new InvalidOperationException("unknown read result " + result);
        }
    }

    private static PolicyDiagnostic Error(PolicyErrorKind kind, string label, string message, string found, string expected) =>
        new(DiagnosticSeverity.Error, kind, SourceLocation.StartOf(label), string.Empty, message, found, expected);
}
