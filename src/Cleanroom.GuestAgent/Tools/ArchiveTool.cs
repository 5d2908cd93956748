using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// <c>archive [--base DIR] [--exclude NAME]... [--] PATH...</c>: writes a PAX tar of the paths (directories
/// recursively, symlinks as symlinks, never followed) to stdout.
/// <list type="bullet">
/// <item>Entry names are relative to <c>--base</c> (default <c>/</c>; a relative base is taken from the working
/// directory). A relative PATH is taken from the base: base <c>/workspace</c> and path <c>src</c> (or
/// <c>/workspace/src</c>) give <c>src</c>, <c>src/a.c</c>. A path equal to the base
/// gives its contents only (no entry for the base itself). A path outside the base is a usage error.</item>
/// <item><c>--exclude NAME</c>: a NAME without <c>/</c> drops every entry with that file name at any depth
/// (<c>--exclude .git</c>); a NAME with <c>/</c> drops the entry with exactly that name, relative to the base, and
/// everything under it.</item>
/// <item>Every PATH must exist (checked before anything is written). Sockets, FIFOs and devices are skipped with a
/// warning. A name or symlink target that is not valid UTF-8 is archived exactly: PATH arguments and names read
/// from directories keep their bytes (see <see cref="Cleanroom.Escaping.FileNameBytes"/>), and the entry carries them
/// in the <see cref="Cleanroom.Escaping.PaxRawNames"/> vendor records (other tar tools see U+FFFD there).</item>
/// </list>
/// </summary>
internal static class ArchiveTool
{
    public const string Usage = "archive [--base DIR] [--exclude NAME]... [--] PATH...";

    public static int Run(IReadOnlyList<string> args, ToolIo io)
    {
        var baseDirectory = "/";
        var excludes = new List<string>();
        var paths = new List<string>();
        var options = true;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (options && arg == "--")
            {
                options = false;
            }
            else if (options && arg is "--base" or "--exclude")
            {
                var value = i + 1 < args.Count && args[i + 1].Length > 0 ? args[++i] : throw new UsageException($"{arg} needs a value");
                if (arg == "--base")
                {
                    baseDirectory = value;
                }
                else
                {
                    excludes.Add(value.Trim('/'));
                }
            }
            else if (options && arg.StartsWith('-'))
            {
                throw new UsageException($"unknown option {UntrustedText.Escape(arg)}");
            }
            else
            {
                paths.Add(arg.Length > 0 ? arg : throw new UsageException("empty path"));
            }
        }

        if (paths.Count == 0)
        {
            throw new UsageException("no paths to archive");
        }

        var fullBase = Path.GetFullPath(baseDirectory);
        var roots = new List<(string FullPath, string EntryName, FileStatus Status)>();
        foreach (var path in paths)
        {
            var fullPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path, fullBase));
            var relative = Path.GetRelativePath(fullBase, fullPath);
            if (relative == ".." || relative.StartsWith("../", StringComparison.Ordinal) || Path.IsPathRooted(relative))
            {
                throw new UsageException($"{UntrustedText.Escape(path)} is not under the base {UntrustedText.Escape(fullBase)}");
            }

            roots.Add((fullPath, relative == "." ? "" : relative, FileStatus.Get(fullPath)));
        }

        bool Excluded(string entryName) => excludes.Exists(pattern => pattern.Contains('/', StringComparison.Ordinal)
            ? entryName == pattern
            : entryName == pattern || entryName.EndsWith("/" + pattern, StringComparison.Ordinal));

        using var writer = new ArchiveWriter(io.Output, io.Error);
        foreach (var (fullPath, entryName, status) in roots)
        {
            if (entryName.Length == 0 || !Excluded(entryName))
            {
                writer.WriteTree(fullPath, entryName, status, Excluded);
            }
        }

        return writer.Failures == 0 ? 0 : 1;
    }
}
