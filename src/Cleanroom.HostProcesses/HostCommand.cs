using System.ComponentModel;
using System.Diagnostics;

namespace Cleanroom.HostProcesses;

/// <summary>
/// The one way this project runs host tools (qemu-img, qemu --version, dmesg, …): argv without a shell, stdin
/// closed, output bounded, a hard timeout that kills the process tree, and errors that name the command and show
/// the end of its stderr.
/// </summary>
public static class HostCommand
{
    /// <summary>Most bytes of stdout and of stderr kept (the tail); tools we run print far less.</summary>
    public const int MaxOutputBytes = 1024 * 1024;

    private const int StderrLinesInMessage = 10;

    /// <summary>Runs the command and throws <see cref="HostCommandException"/> unless it exits 0.</summary>
    /// <param name="stdin">Text written to the command's stdin (e.g. an nft script), which is then closed.</param>
    public static async Task<HostCommandResult> RunAsync(string file, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken ct, string? stdin = null)
    {
        var result = await TryRunAsync(file, args, timeout, ct, stdin);
        if (result.ExitCode != 0)
        {
            var command = Display(file, args);
            var tail = TextSanitizer.LastLines(TextSanitizer.ToPrintable(result.Stderr), StderrLinesInMessage);
            throw new HostCommandException(
                $"`{command}` failed with exit code {result.ExitCode}" + (tail.Length > 0 ? $":\n{tail}" : " and printed nothing to stderr."),
                command,
                result.ExitCode,
                tail);
        }

        return result;
    }

    /// <summary>Runs the command and returns whatever exit code it had. Still throws if it cannot start or times out.</summary>
    public static async Task<HostCommandResult> TryRunAsync(string file, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken ct, string? stdin = null)
    {
        var command = Display(file, args);
        var startInfo = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            ChildSpawn.Start(process);
        }
        catch (Win32Exception ex)
        {
            throw new HostCommandException($"`{command}` could not be started: {ex.Message}", command, null, string.Empty, ex);
        }

        await using var stdout = new StreamCapture(MaxOutputBytes);
        await using var stderr = new StreamCapture(MaxOutputBytes);
        stdout.Start(process.StandardOutput.BaseStream);
        stderr.Start(process.StandardError.BaseStream);
        await WriteStdinAsync(process, stdin);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            KillTree(process);
            await process.WaitForExitAsync(CancellationToken.None);
            ct.ThrowIfCancellationRequested();
            throw new HostCommandException(
                $"`{command}` timed out after {timeout.TotalSeconds:0.#} s and was killed.", command, null, stderr.PrintableText());
        }

        await Task.WhenAll(stdout.Completion, stderr.Completion);
        return new HostCommandResult(process.ExitCode, stdout.RawText(), stderr.RawText());
    }

    /// <summary>A readable rendering of argv for messages; not meant to be pasted into a shell verbatim.</summary>
    public static string Display(string file, IEnumerable<string> args) =>
        string.Join(' ', new[] { file }.Concat(args).Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) ? $"'{a}'" : a));

    private static async Task WriteStdinAsync(Process process, string? stdin)
    {
        try
        {
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The command exited without reading it all; its exit code and stderr say why.
        }
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited between the timeout and the kill.
        }
    }
}
