using System.Diagnostics;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// The installed CLI (.build/bin/cleanroom, what users run) as a child process against a test daemon's socket. It
/// runs in the given directory, by default one outside any git repository: the CLI checks out the repository it runs
/// in, and a test that wants one says so.
/// </summary>
internal static class InstalledCli
{
    public static string Path => System.IO.Path.Combine(RepoPaths.Root, ".build", "bin", "cleanroom");

    /// <summary>Runs <c>cleanroom --host unix://SOCKET ARGS</c>; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string socketPath, string? workingDirectory, params string[] args)
    {
        Assert.True(File.Exists(Path), $"the CLI is not built at {Path}: run scripts/setup.sh");
        var start = new ProcessStartInfo(Path, ["--host", "unix://" + socketPath, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory ?? System.IO.Path.GetTempPath(),
        };
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
