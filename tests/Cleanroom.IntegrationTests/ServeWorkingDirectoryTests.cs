using System.Diagnostics;
using System.Globalization;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// Where <c>cleanroom serve</c> is started from is not the daemon's business: a daemon started in a busy tree (`/` under
/// systemd, a repository, the state directory itself) must not watch it. The web host's defaults watched the working
/// directory recursively for settings files: an inotify watch per directory and an event for every write below it.
/// </summary>
public sealed class ServeWorkingDirectoryTests
{
    [Fact]
    public async Task The_daemon_watches_nothing_in_the_directory_it_was_started_from()
    {
        Assert.True(File.Exists(InstalledCli.Path), $"the CLI is not built at {InstalledCli.Path}: run scripts/setup.sh");
        var state = Directory.CreateTempSubdirectory("cr-it-cwd-").FullName;
        var deeper = Directory.CreateDirectory(Path.Combine(state, "tree", "deeper")).FullName;
        Process? started = null;
        try
        {
            var socket = Path.Combine(state, "cleanroom.sock");
            var serve = started = ServeSignalTests.StartServe(state, socket, workingDirectory: state);
            var stdout = serve.StandardOutput.ReadToEndAsync();
            var stderr = serve.StandardError.ReadToEndAsync();
            var daemon = await ServeSignalTests.WaitForDaemonAsync(serve, socket, stderr);
            try
            {
                var watched = InotifyWatches(daemon);
                string[] below = [state, Path.GetDirectoryName(deeper)!, deeper];
                var inodes = await Task.WhenAll(below.Select(InodeAsync));
                Assert.Empty(watched.Intersect(inodes));
            }
            finally
            {
                using (var kill = Process.Start("kill", ["-TERM", daemon.ToString(CultureInfo.InvariantCulture)]))
                {
                    await kill.WaitForExitAsync();
                }

                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await serve.WaitForExitAsync(timeout.Token);
                _ = await stdout + await stderr;
            }
        }
        finally
        {
            ServeSignalTests.StopLeftover(started);
            started?.Dispose();
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>The inode numbers a process's inotify descriptors watch (the kernel lists them in fdinfo, in hex).</summary>
    private static HashSet<ulong> InotifyWatches(int pid)
    {
        var inodes = new HashSet<ulong>();
        foreach (var info in Directory.EnumerateFiles($"/proc/{pid}/fdinfo"))
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(info);
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }

            foreach (var line in lines.Where(l => l.StartsWith("inotify wd:", StringComparison.Ordinal)))
            {
                var field = line.Split(' ').First(f => f.StartsWith("ino:", StringComparison.Ordinal));
                inodes.Add(ulong.Parse(field["ino:".Length..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }

        return inodes;
    }

    private static async Task<ulong> InodeAsync(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true })!;
        var text = await stat.StandardOutput.ReadToEndAsync();
        await stat.WaitForExitAsync();
        return ulong.Parse(text.Trim(), CultureInfo.InvariantCulture);
    }
}
