using System.Diagnostics;
using System.Globalization;

namespace Cleanroom.TestSupport;

/// <summary>
/// A network namespace this test owns (traffic stays inside namespaces tests create), removed with everything in it
/// on dispose, even when the test failed.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }

    public static NetworkNamespace Create(string role)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"cr-t-{role}-{Random.Shared.Next(0, 1 << 24):x6}");
        Host("ip", "netns", "add", name);
        var ns = new NetworkNamespace(name);
        ns.Run("ip", "link", "set", "lo", "up");
        return ns;
    }

    /// <summary>Runs a command inside the namespace; throws with its stderr unless it exits 0.</summary>
    public string Run(params string[] command) => RunWithInput(null, command);

    /// <summary>Runs a command inside the namespace with <paramref name="stdin"/> as its input.</summary>
    public string RunWithInput(string? stdin, params string[] command)
    {
        var result = TryRun(stdin, command);
        return result.ExitCode == 0
            ? result.Stdout
            : throw new InvalidOperationException($"`{string.Join(' ', command)}` in {Name} exited {result.ExitCode}: {result.Stderr}");
    }

    /// <summary>Runs a command inside the namespace and returns its exit code and output.</summary>
    public (int ExitCode, string Stdout, string Stderr) TryRun(string? stdin, params string[] command) =>
        Execute(["ip", "netns", "exec", Name, .. command], stdin);

    /// <summary>Starts a long-running process inside the namespace (a server); the caller kills it.</summary>
    public Process Start(params string[] command)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in new[] { "netns", "exec", Name }.Concat(command))
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }

    /// <summary>Runs a command in the test's own namespace (the host's).</summary>
    public static string Host(params string[] command)
    {
        var result = Execute(command, null);
        return result.ExitCode == 0
            ? result.Stdout
            : throw new InvalidOperationException($"`{string.Join(' ', command)}` exited {result.ExitCode}: {result.Stderr}");
    }

    public void Dispose()
    {
        // Killing what still runs in it first: a namespace with live processes would outlive `ip netns del`.
        Execute(["sh", "-c", $"ip netns pids {Name} | xargs -r kill -9"], null);
        Execute(["ip", "netns", "del", Name], null);
    }

    private static (int ExitCode, string Stdout, string Stderr) Execute(string[] command, string? stdin)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in command.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{string.Join(' ', command)}` did not finish within 60 s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
