using System.Diagnostics;
using System.Text;

namespace Cleanroom.Images.Tests.Ext4;

/// <summary>Runs the real ext4 tools (e2fsck, mount, find, mkfs.ext4) and captures their output as raw bytes.</summary>
internal static class Ext4Tools
{
    /// <summary>The exit code, stdout bytes and stderr text of <paramref name="program"/>.</summary>
    public static (int ExitCode, byte[] Output, string Error) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["PATH"] = Environment.GetEnvironmentVariable("PATH") + ":/usr/sbin:/sbin";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        using var output = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(output);
        process.WaitForExit();
        return (process.ExitCode, output.ToArray(), error.Result);
    }

    /// <summary>Runs <paramref name="program"/> and fails the test unless it exits 0.</summary>
    public static byte[] RunChecked(string program, params string[] arguments)
    {
        var (exitCode, output, error) = Run(program, arguments);
        Assert.True(exitCode == 0, $"{program} {string.Join(' ', arguments)} exited {exitCode}: {error}{Encoding.UTF8.GetString(output)}");
        return output;
    }

    /// <summary>
    /// <c>e2fsck -fn</c>: the lines it printed that are not its banner, pass headings or summary (the problems), and its
    /// exit code.
    /// </summary>
    public static (int ExitCode, IReadOnlyList<string> Problems, string Output) Fsck(string image)
    {
        var (exitCode, output, error) = Run("e2fsck", "-fn", image);
        var text = Encoding.UTF8.GetString(output) + error;
        var problems = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith("e2fsck ", StringComparison.Ordinal)
                && !line.StartsWith("Pass ", StringComparison.Ordinal)
                && !line.Contains(" files (", StringComparison.Ordinal))
            .ToList();
        return (exitCode, problems, text);
    }

    /// <summary>Asserts that e2fsck finds nothing at all to complain about.</summary>
    public static void AssertClean(string image)
    {
        var (exitCode, problems, output) = Fsck(image);
        Assert.True(exitCode == 0 && problems.Count == 0, $"e2fsck -fn exited {exitCode}:\n{output}");
    }
}
