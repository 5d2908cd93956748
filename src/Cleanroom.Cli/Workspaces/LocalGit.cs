using System.Diagnostics;
using System.Text;

namespace Cleanroom.Cli.Workspaces;

/// <summary>
/// Runs the user's git on their repository, read-only: no prompts, no optional locks (status must not rewrite the
/// index of a repository someone is working in), output bounded, and a missing git is just "no answer".
/// </summary>
internal static class LocalGit
{
    private const int MaxOutputChars = 16 << 20;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>git's exit code and stdout, or null when git cannot be run at all.</summary>
    public static async Task<(int ExitCode, string Stdout)?> RunAsync(string directory, IReadOnlyList<string> args, CancellationToken ct)
    {
        var start = new ProcessStartInfo("git")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add("-C");
        start.ArgumentList.Add(directory);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_OPTIONAL_LOCKS"] = "0";
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // git is not installed: there is no repository to speak of
        }

        using (process)
        {
            process.StandardInput.Close();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(Timeout);
            var stdout = ReadBoundedAsync(process.StandardOutput, timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
                var output = await stdout;
                await stderr;
                return (process.ExitCode, output);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                ct.ThrowIfCancellationRequested();
                return null;
            }
        }
    }

    private static async Task<string> ReadBoundedAsync(StreamReader reader, CancellationToken ct)
    {
        var builder = new StringBuilder();
        var buffer = new char[64 * 1024];
        int read;
        while ((read = await reader.ReadAsync(buffer, ct)) > 0)
        {
            if (builder.Length + read <= MaxOutputChars)
            {
                builder.Append(buffer, 0, read);
            }
        }

        return builder.ToString();
    }
}
