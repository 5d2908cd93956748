using System.Diagnostics;

namespace Cleanroom.Images.Tests.Manager;

/// <summary>Reads a file system image with debugfs (read-only, no mount needed).</summary>
internal static class Ext4Contents
{
    public static string Cat(string image, string path) => Debugfs(image, $"cat {path}", includeErrors: false);

    /// <summary>debugfs's <c>stat</c> for a path, or an empty string when it does not exist.</summary>
    public static string Stat(string image, string path)
    {
        var output = Debugfs(image, $"stat {path}");
        return output.Contains("File not found", StringComparison.Ordinal) ? "" : output;
    }

    /// <summary>Names in a directory (without . and ..).</summary>
    public static IReadOnlyList<string> List(string image, string directory) =>
        Debugfs(image, $"ls -p {directory}")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('/'))
            .Where(parts => parts.Length >= 7)
            .Select(parts => parts[5])
            .Where(name => name is not ("." or "" or ".."))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>True when e2fsck finds nothing to fix.</summary>
    public static bool IsClean(string image)
    {
        using var process = Process.Start(new ProcessStartInfo("e2fsck", ["-fn", image]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0;
    }

    private static string Debugfs(string image, string request, bool includeErrors = true)
    {
        using var process = Process.Start(new ProcessStartInfo("debugfs", ["-R", request, image]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return includeErrors ? output + error : output;
    }
}
