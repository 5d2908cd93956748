using System.Formats.Tar;
using System.Text;
using Cleanroom.GuestAgent.Tools;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>Runs a built-in tool in-process on memory streams, as the agent binary would on its descriptors.</summary>
internal static class ToolRunner
{
    public static ToolResult Run(byte[] stdin, params string[] args)
    {
        using var input = new MemoryStream(stdin);
        using var output = new MemoryStream();
        using var error = new StringWriter();
        var code = ToolCommand.Run(args, new ToolIo(input, output, error));
        return new ToolResult(code, output.ToArray(), error.ToString());
    }

    public static ToolResult Run(params string[] args) => Run([], args);

    /// <summary>A PAX tar built entry by entry (names are written verbatim, hostile ones included).</summary>
    public static byte[] Tar(params TarEntry[] entries)
    {
        using var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                writer.WriteEntry(entry);
            }
        }

        return stream.ToArray();
    }

    public static PaxTarEntry File(string name, string content = "")
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };
        return entry;
    }

    public static PaxTarEntry Directory(string name) => new(TarEntryType.Directory, name) { Mode = (UnixFileMode)0x1ED };

    public static PaxTarEntry Symlink(string name, string target) => new(TarEntryType.SymbolicLink, name) { LinkName = target };

    /// <summary>The entries of a tar: name, type and (for files) content.</summary>
    public static List<(string Name, TarEntryType Type, string Content)> Entries(byte[] tar)
    {
        var result = new List<(string, TarEntryType, string)>();
        using var reader = new TarReader(new MemoryStream(tar));
        while (reader.GetNextEntry(copyData: true) is { } entry)
        {
            var content = entry.DataStream is null ? "" : new StreamReader(entry.DataStream).ReadToEnd();
            result.Add((entry.Name, entry.EntryType, content));
        }

        return result;
    }
}

/// <summary>What a tool run produced.</summary>
internal sealed record ToolResult(int ExitCode, byte[] Stdout, string Stderr)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);
}
