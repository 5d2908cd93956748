using System.Diagnostics;

namespace Cleanroom.Gateway.Tests.RubyGems;

/// <summary>Runs the real <c>gem</c> and <c>bundle</c> with a private HOME, no proxies and no host configuration.</summary>
internal static class RubyTools
{
    public const string Gem = "/usr/bin/gem";
    public const string Bundle = "/usr/bin/bundle";

    /// <summary>Runs <paramref name="tool"/> in <paramref name="directory"/>; exit code and everything it printed.</summary>
    public static async Task<(int Code, string Output)> RunAsync(
        string tool, string directory, string home, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        if (!File.Exists(tool))
        {
            Assert.Fail($"{tool} is missing; scripts/install-host-deps.sh installs ruby and bundler");
        }

        var start = new ProcessStartInfo(tool)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("GEM", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("BUNDLE", StringComparison.OrdinalIgnoreCase) || k.StartsWith("RUBY", StringComparison.OrdinalIgnoreCase)
            || k.Contains("proxy", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        Directory.CreateDirectory(home);
        var gemrc = Path.Combine(home, "gemrc");
        await File.WriteAllTextAsync(gemrc, "---\n");
        start.Environment["HOME"] = home;
        start.Environment["GEMRC"] = gemrc;
        start.Environment["GEM_HOME"] = Path.Combine(home, "gem-home");
        start.Environment["GEM_PATH"] = Path.Combine(home, "gem-home");
        start.Environment["GEM_SPEC_CACHE"] = Path.Combine(home, "spec-cache");
        start.Environment["XDG_CACHE_HOME"] = Path.Combine(home, ".cache");
        start.Environment["XDG_CONFIG_HOME"] = Path.Combine(home, ".config");
        start.Environment["XDG_DATA_HOME"] = Path.Combine(home, ".local", "share");
        start.Environment["BUNDLE_USER_HOME"] = Path.Combine(home, ".bundle");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
