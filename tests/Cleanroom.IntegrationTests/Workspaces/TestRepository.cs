using System.Diagnostics;

namespace Cleanroom.IntegrationTests.Workspaces;

/// <summary>A real git repository in a temporary directory, made and changed with host git; deleted on dispose.</summary>
internal sealed class TestRepository : IDisposable
{
    public TestRepository()
    {
        Root = Directory.CreateTempSubdirectory("cr-it-repo-").FullName;
        Git("init", "-q", "-b", "main");
        Git("config", "user.email", "test@example.invalid");
        Git("config", "user.name", "Test");
    }

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    public TestRepository Write(string relative, string content, UnixFileMode? mode = null)
    {
        var path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        if (mode is { } m)
        {
            File.SetUnixFileMode(path, m);
        }

        return this;
    }

    /// <summary>Commits everything and returns the new commit's id.</summary>
    public string CommitAll(string message)
    {
        Git("add", "-A");
        Git("commit", "-q", "-m", message);
        return Git("rev-parse", "HEAD").Trim();
    }

    public string Git(params string[] args) => Run("git", ["-C", Root, .. args]);

    /// <summary>Runs a shell script in the repository: the way to make names .NET cannot (bytes that are not UTF-8).</summary>
    public string Shell(string script) => Run("/bin/sh", ["-c", "cd \"$1\" && " + script, "sh", Root]);

    private static string Run(string program, string[] args)
    {
        var start = new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? stdout : throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed: {stderr}");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // .NET cannot name files whose names are not UTF-8; rm can.
            Run("rm", ["-rf", "--", Root]);
        }
    }
}
