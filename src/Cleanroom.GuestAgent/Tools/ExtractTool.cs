using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// <c>extract [--whiteouts] [--owner-of-root] [--] DIR</c>: reads a tar from stdin and writes it under DIR (created with any missing
/// parents). Regular files, directories, symlinks and hard links (to an earlier entry of the same archive); other
/// entry types are skipped with a warning. Modes (all 12 bits) and mtimes are kept; ownership is not (files belong
/// to the user the tool runs as). Existing files are replaced atomically (temp name in the same directory, then
/// rename); an existing directory is merged into. An entry that would land outside DIR (absolute, <c>..</c>, or
/// through a symlinked parent) stops the extraction with exit 1. With <c>--whiteouts</c> the OCI layer markers are
/// applied instead of written: <c>dir/.wh.NAME</c> deletes <c>dir/NAME</c>, <c>dir/.wh..wh..opq</c> empties
/// <c>dir</c> of everything this archive did not write. With <c>--owner-of-root</c> everything the archive creates
/// gets DIR's owner and group (workspace copy-in: the tool runs as root, the workspace may be a non-root user's).
/// Prints nothing on success.
/// </summary>
internal static class ExtractTool
{
    public const string Usage = "extract [--whiteouts] [--owner-of-root] [--] DIR";

    public static int Run(IReadOnlyList<string> args, ToolIo io)
    {
        var whiteouts = false;
        var ownerOfRoot = false;
        string? directory = null;
        var options = true;
        foreach (var arg in args)
        {
            if (options && arg == "--")
            {
                options = false;
            }
            else if (options && arg == "--whiteouts")
            {
                whiteouts = true;
            }
            else if (options && arg == "--owner-of-root")
            {
                ownerOfRoot = true;
            }
            else if (options && arg.StartsWith('-'))
            {
                throw new UsageException($"unknown option {UntrustedText.Escape(arg)}");
            }
            else if (directory is null && arg.Length > 0)
            {
                directory = arg;
            }
            else
            {
                throw new UsageException("exactly one (non-empty) target directory");
            }
        }

        if (directory is null)
        {
            throw new UsageException("no target directory");
        }

        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        FileOps.MakeDirectories(root);
        (uint, uint)? owner = null;
        if (ownerOfRoot)
        {
            // "/." follows a symlinked DIR to the directory the entries will really land in.
            var status = FileStatus.TryGet(root == "/" ? "/" : root + "/.", out var errno)
                ?? throw ToolException.FromErrno(errno, "stat", root);
            owner = (status.Uid, status.Gid);
        }

        new Extractor(root, whiteouts, io.Error, owner).Run(io.Input);
        return 0;
    }
}
