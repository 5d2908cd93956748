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
        // The tree exists before the daemon starts, as a repository or `/` would.
        await ServeSignalTests.WithServeAsync(
            async (state, _, daemon) =>
            {
                var deeper = Path.Combine(state, "tree", "deeper");
                var watched = InotifyWatches(daemon);
                string[] below = [state, Path.GetDirectoryName(deeper)!, deeper];
                var inodes = await Task.WhenAll(below.Select(InodeAsync));
                Assert.Empty(watched.Intersect(inodes));
            },
            beforeStart: state => Directory.CreateDirectory(Path.Combine(state, "tree", "deeper")),
            inStateDirectory: true);
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
