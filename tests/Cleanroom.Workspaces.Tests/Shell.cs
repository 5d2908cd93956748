using Cleanroom.HostProcesses;

namespace Cleanroom.Workspaces.Tests;

/// <summary>Runs host tools for the tests (git, mount, stat); throws with the tool's stderr on failure.</summary>
internal static class Shell
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>Test commits are made with a fixed identity and no host configuration.</summary>
    public static async Task<string> GitAsync(string directory, params string[] args)
    {
        var result = await HostCommand.RunAsync(
            "env",
            ["GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-C", directory, .. args],
            Timeout,
            CancellationToken.None);
        return result.Stdout.Trim();
    }

    public static async Task<string> RunAsync(string file, params string[] args) =>
        (await HostCommand.RunAsync(file, args, Timeout, CancellationToken.None)).Stdout;

    /// <summary>For the file names .NET cannot express (bytes that are not UTF-8).</summary>
    public static Task<string> ShAsync(string directory, string script) => RunAsync("sh", "-c", $"cd '{directory}' && {script}");
}
