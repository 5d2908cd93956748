using System.Text;
using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Tools;

/// <summary>
/// The agent's built-in file tools: <c>cleanroom-guest-agent --tool NAME ARGS…</c>, started by the exec path when a
/// request has <c>Tool</c> set. They move files in and out of any guest image (no shell or tar needed). Binary data
/// goes over stdin/stdout; a failure is one line on stderr and exit 1 (could not do it) or 2 (wrong arguments).
/// </summary>
internal static class ToolCommand
{
    public const string Flag = "--tool";

    /// <summary>Runs a tool on the process's own standard descriptors; <paramref name="args"/> start after <see cref="Flag"/>.</summary>
    public static int RunOnStandardStreams(string[] args)
    {
        using var input = new DescriptorStream(0, write: false);
        using var output = new BufferedStream(new DescriptorStream(1, write: true), 1 << 16);
        using var errorStream = new DescriptorStream(2, write: true);
        using var error = new StreamWriter(errorStream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { AutoFlush = true };
        var io = new ToolIo(input, output, error);
        var code = Run(args, io);
        try
        {
            output.Flush();
        }
        catch (IOException ex)
        {
            error.WriteLine($"writing stdout: {ex.Message}");
            return 1;
        }

        return code;
    }

    /// <summary>Runs the tool named by <c>args[0]</c>; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, ToolIo io)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(io);
        var name = args.Count > 0 ? args[0] : "";
        var rest = args.Skip(1).ToList();
        Func<IReadOnlyList<string>, ToolIo, int>? tool = name switch
        {
            "archive" => ArchiveTool.Run,
            "extract" => ExtractTool.Run,
            "stat" => StatTool.Run,
            "remove" => RemoveTool.Run,
            "workspace-changes" => WorkspaceChangesTool.Run,
            _ => null,
        };
        var usage = name switch
        {
            "archive" => ArchiveTool.Usage,
            "extract" => ExtractTool.Usage,
            "stat" => StatTool.Usage,
            "remove" => RemoveTool.Usage,
            "workspace-changes" => WorkspaceChangesTool.Usage,
            _ => "archive|extract|stat|remove|workspace-changes ARGS...",
        };
        try
        {
            return tool is null
                ? throw new UsageException(name.Length == 0 ? "no tool named" : $"unknown tool {UntrustedText.Escape(name)}")
                : tool(rest, io);
        }
        catch (UsageException ex)
        {
            io.Error.WriteLine($"{ex.Message}; usage: {usage}");
            return 2;
        }
        catch (ToolException ex)
        {
            // One line: the host shows it as the reason (and recognises "no such file or directory: " at its start).
            io.Error.WriteLine(ex.Message.ReplaceLineEndings(" "));
            return 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or FormatException or ArgumentException)
        {
            // The agent is built without resource strings, so a runtime message may be a bare key: name the exception.
            // Its text may quote the archive (a tar reader's message), so it is escaped like any hostile text.
            io.Error.WriteLine($"{name}: {ex.GetType().Name}: {UntrustedText.Escape(ex.Message)}");
            return 1;
        }
    }
}
