using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// <c>remove [-r] [-f] [--] PATH...</c>: unlinks files and symlinks (never their targets), removes empty
/// directories, and with <c>-r</c> whole trees. A missing path is an error (exit 1) unless <c>-f</c>. Every path is
/// tried; each failure is one line on stderr. <c>/</c> is refused.
/// </summary>
internal static class RemoveTool
{
    public const string Usage = "remove [-r] [-f] [--] PATH...";

    public static int Run(IReadOnlyList<string> args, ToolIo io)
    {
        var recursive = false;
        var force = false;
        var paths = new List<string>();
        var options = true;
        foreach (var arg in args)
        {
            if (options && arg == "--")
            {
                options = false;
            }
            else if (options && arg.Length > 1 && arg[0] == '-')
            {
                foreach (var flag in arg.AsSpan(1))
                {
                    _ = flag switch
                    {
                        'r' => recursive = true,
                        'f' => force = true,
                        _ => throw new UsageException($"unknown option {UntrustedText.Escape(arg)}"),
                    };
                }
            }
            else
            {
                paths.Add(arg.Length > 0 ? arg : throw new UsageException("empty path"));
            }
        }

        if (paths.Count == 0)
        {
            throw new UsageException("no paths to remove");
        }

        var failures = 0;
        foreach (var path in paths)
        {
            try
            {
                Remove(path, recursive, force);
            }
            catch (ToolException ex)
            {
                io.Error.WriteLine(ex.Message);
                failures++;
            }
        }

        return failures == 0 ? 0 : 1;
    }

    private static void Remove(string path, bool recursive, bool force)
    {
        if (Path.GetFullPath(path) == "/")
        {
            throw new ToolException("refusing to remove /");
        }

        var status = FileStatus.TryGet(path, out var errno);
        if (status is null)
        {
            if (force && errno == Native.Errno.ENOENT)
            {
                return;
            }

            throw ToolException.FromErrno(errno, "remove", path);
        }

        if (status.Value.Type != FileType.Directory)
        {
            FileOps.Unlink(path);
        }
        else if (recursive)
        {
            FileOps.RemoveTree(path);
        }
        else
        {
            FileOps.RemoveDirectory(path);
        }
    }
}
