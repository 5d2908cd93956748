using System.Diagnostics;

namespace Cleanroom.Daemon.Tests;

/// <summary>Finding and running node tools for the conformance client, each run bounded in time.</summary>
internal static class NodeTools
{
    public static string? Find(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);

    /// <summary>tests/conformance, found from the test binary's directory upwards.</summary>
    public static string ConformanceDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "conformance");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/conformance not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs a tool to its end within the bound; fails the test with its output when it exits non-zero.</summary>
    public static async Task<string> RunAsync(string directory, TimeSpan bound, string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(Find(tool) ?? tool) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
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
