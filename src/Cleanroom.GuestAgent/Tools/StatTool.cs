using System.Text;
using System.Text.Json;
using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// <c>stat [--] PATH</c>: one line of JSON about PATH itself (a symlink is not followed):
/// <c>{"path","type":"file|directory|symlink|other","mode":"0755","size","mtime_unix_ms","uid","gid","link_target"}</c>.
/// <c>mode</c> is four octal digits (permissions plus set-uid/set-gid/sticky, e.g. <c>"4755"</c>);
/// <c>link_target</c> is present only for symlinks. A missing path exits 1 with
/// <c>no such file or directory: PATH</c> on stderr. JSON strings must be valid Unicode, so a path or link target
/// that is not valid UTF-8 is written with U+FFFD where its bytes were and its exact bytes, base64, in
/// <c>path_raw</c> or <c>link_target_raw</c> (present only then; see <see cref="FileNameBytes"/>).
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
            WriteName(json, "path", path);
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
                WriteName(json, "link_target", FileOps.ReadLink(path));
            }

            json.WriteEndObject();
        }

        io.Output.WriteByte((byte)'\n');
        return 0;
    }

    private static void WriteName(Utf8JsonWriter json, string property, string name)
    {
        if (!FileNameBytes.HasEscapedBytes(name))
        {
            json.WriteString(property, name);
            return;
        }

        var bytes = FileNameBytes.Encode(name);
        json.WriteString(property, Encoding.UTF8.GetString(bytes));
        json.WriteString(property + "_raw", Convert.ToBase64String(bytes));
    }
}
