using System.Text.Json;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// <c>stat [--] PATH</c>: one line of JSON about PATH itself (a symlink is not followed):
/// <c>{"path","type":"file|directory|symlink|other","mode":"0755","size","mtime_unix_ms","uid","gid","link_target"}</c>.
/// <c>mode</c> is four octal digits (permissions plus set-uid/set-gid/sticky, e.g. <c>"4755"</c>);
/// <c>link_target</c> is present only for symlinks. A missing path exits 1 with
/// <c>no such file or directory: PATH</c> on stderr.
/// </summary>
internal static class StatTool
{
    public const string Usage = "stat [--] PATH";

    public static int Run(IReadOnlyList<string> args, ToolIo io)
    {
        var operands = args.Count > 0 && args[0] == "--" ? args.Skip(1).ToList() : [.. args];
        if (operands.Count != 1 || operands[0].Length == 0 || (args[0] != "--" && operands[0].StartsWith('-')))
        {
            throw new UsageException("exactly one path");
        }

        var path = operands[0];
        var status = FileStatus.Get(path);
        using (var json = new Utf8JsonWriter(io.Output))
        {
            json.WriteStartObject();
            json.WriteString("path", path);
            json.WriteString("type", status.Type switch
            {
                FileType.Regular => "file",
                FileType.Directory => "directory",
                FileType.Symlink => "symlink",
                _ => "other",
            });
            json.WriteString("mode", Convert.ToString(status.Permissions, 8).PadLeft(4, '0'));
            json.WriteNumber("size", status.Size);
            json.WriteNumber("mtime_unix_ms", status.MTimeUnixMilliseconds);
            json.WriteNumber("uid", status.Uid);
            json.WriteNumber("gid", status.Gid);
            if (status.Type == FileType.Symlink)
            {
                json.WriteString("link_target", FileOps.ReadLink(path));
            }

            json.WriteEndObject();
        }

        io.Output.WriteByte((byte)'\n');
        return 0;
    }
}
