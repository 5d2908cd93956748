using System.Diagnostics;

namespace Cleanroom.Daemon.Tests;

/// <summary>Finding and running node tools for the conformance client, each run bounded in time.</summary>
internal static class NodeTools
{
    public static string? Find(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);

    /// <summary>The checkout's root: the directory above the test binary that holds tests/conformance.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "tests", "conformance", "package.json")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("tests/conformance not found above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// Runs a tool to its end within the bound; fails the test with its output when it exits non-zero. With
    /// <paramref name="path"/>, that directory comes first on the tool's PATH.
    /// </summary>
    public static async Task<string> RunAsync(string directory, TimeSpan bound, string tool, string[] arguments, string? path = null)
    {
        var start = new ProcessStartInfo(tool.Contains('/', StringComparison.Ordinal) ? tool : Find(tool) ?? tool)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (path is not null)
        {
            start.Environment["PATH"] = path + ":" + Environment.GetEnvironmentVariable("PATH");
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', arguments)} ran longer than {bound}");
        }

        var output = await stdout;
        Assert.True(process.ExitCode == 0, $"{tool} {string.Join(' ', arguments)} exited {process.ExitCode}:\n{output}\n{await stderr}");
        return output;
    }
}
