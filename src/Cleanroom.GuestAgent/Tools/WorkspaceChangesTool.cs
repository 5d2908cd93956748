using System.Text;
using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// <c>workspace-changes LOWER UPPER</c>: the changes made to the workspace overlay, as a PAX tar in OCI layer form on
/// stdout. Only UPPER (the overlay's upper directory) is walked, so the cost follows the size of the changes, not of
/// the repository; LOWER is only checked to be a directory (the argument order is part of the contract).
/// <list type="bullet">
/// <item>Files, directories and symlinks in UPPER become entries (a file copied up but unchanged is included; the
/// host compares). Directories come before their contents.</item>
/// <item>An overlay whiteout (character device 0:0) at <c>dir/NAME</c> becomes an empty file <c>dir/.wh.NAME</c>.</item>
/// <item>An opaque directory (xattr <c>trusted.overlay.opaque</c> = <c>y</c>, e.g. a lower directory removed and made
/// again) gets <c>dir/.wh..wh..opq</c> right after its own entry, before its contents.</item>
/// <item>The top-level <c>.git</c> (and a whiteout of it) is always left out: the host keeps its own.</item>
/// </list>
/// Assumes the default overlay options (no redirect_dir, no metacopy): every changed file is fully copied up.
/// </summary>
internal static class WorkspaceChangesTool
{
    public const string Usage = "workspace-changes LOWER UPPER";

    private const string OpaqueXattr = "trusted.overlay.opaque";

    public static int Run(IReadOnlyList<string> args, ToolIo io)
    {
        if (args.Count != 2 || args[0].Length == 0 || args[1].Length == 0)
        {
            throw new UsageException("needs LOWER and UPPER");
        }

        foreach (var directory in args)
        {
            if (FileStatus.Get(directory).Type != FileType.Directory)
            {
                throw new ToolException($"not a directory: {UntrustedText.Escape(directory)}");
            }
        }

        using var writer = new ArchiveWriter(io.Output, io.Error);
        Walk(writer, Path.TrimEndingDirectorySeparator(Path.GetFullPath(args[1])), "");
        return writer.Failures == 0 ? 0 : 1;
    }

    private static void Walk(ArchiveWriter writer, string fullPath, string name)
    {
        foreach (var child in DirectoryListing.Children(fullPath))
        {
            if (name.Length == 0 && child.Name == ".git")
            {
                continue;
            }

            var status = child.Status;
            var childName = EntryNames.Join(name, child.Name);
            if (status.IsOverlayWhiteout)
            {
                writer.WriteMarker(EntryNames.Join(name, ".wh." + child.Name), status);
                continue;
            }

            writer.Write(child.FullPath, childName, status);
            if (status.Type != FileType.Directory)
            {
                continue;
            }

            if (FileOps.GetXattr(child.FullPath, OpaqueXattr) is { } value && Encoding.ASCII.GetString(value) == "y")
            {
                writer.WriteMarker(childName + "/.wh..wh..opq", status);
            }

            Walk(writer, child.FullPath, childName);
        }
    }
}
