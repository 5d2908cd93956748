using System.Diagnostics;

namespace Cleanroom.Gateway.Tests.Npm;

/// <summary>
/// Runs the real npm client (/usr/bin/npm) with everything it could read from the machine replaced by temporary
/// files: HOME, user and global configuration, cache, and no proxy variables, so it only ever talks to the gateway.
/// </summary>
internal static class NpmCli
{
    public const string Path = "/usr/bin/npm";

    /// <summary>A proxy address nothing listens on (the discard port).</summary>
    private const string DeadProxy = "http://127.0.0.1:9";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>Fails (never skips) when npm is missing.</summary>
    public static void Require() =>
        Assert.True(File.Exists(Path), $"{Path} is missing: scripts/install-host-deps.sh installs it (Debian package nodejs or npm)");

    /// <summary>Runs <c>npm ARGS</c> in <paramref name="project"/> with <paramref name="home"/> as HOME and <paramref name="cache"/> as its cache.</summary>
    public static async Task<(int Code, string Output)> RunAsync(string project, string home, string cache, params string[] args)
    {
        Require();
        var start = new ProcessStartInfo(Path, args)
        {
            WorkingDirectory = project,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var name in start.Environment.Keys.ToList())
        {
            if (name.StartsWith("npm_", StringComparison.OrdinalIgnoreCase) || name.Contains("proxy", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("NODE_", StringComparison.Ordinal))
            {
                start.Environment.Remove(name);
            }
        }

        Directory.CreateDirectory(home);
        var userConfig = System.IO.Path.Combine(home, ".npmrc");
        var globalConfig = System.IO.Path.Combine(home, "global-npmrc");
        File.WriteAllText(userConfig, "");
        File.WriteAllText(globalConfig, "");
        start.Environment["HOME"] = home;
        start.Environment["npm_config_userconfig"] = userConfig;
        start.Environment["npm_config_globalconfig"] = globalConfig;
        start.Environment["npm_config_cache"] = cache;
        start.Environment["npm_config_update_notifier"] = "false";
        start.Environment["npm_config_fund"] = "false";
        start.Environment["npm_config_audit"] = "false";
        start.Environment["npm_config_loglevel"] = "http";
        start.Environment["npm_config_fetch_retries"] = "0";

        // Anything npm would fetch from elsewhere than the gateway goes to a dead proxy on loopback, never out.
        start.Environment["npm_config_proxy"] = DeadProxy;
        start.Environment["npm_config_https_proxy"] = DeadProxy;
        start.Environment["npm_config_noproxy"] = "127.0.0.1";

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            using var killed = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(killed.Token);
            return (-1, $"npm {string.Join(' ', args)} did not finish within {Timeout}\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, $"npm {string.Join(' ', args)} exited {process.ExitCode}\n{await stdout}\n{await stderr}");
    }
}
