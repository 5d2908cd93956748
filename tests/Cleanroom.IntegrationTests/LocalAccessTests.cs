extern alias daemon;

using daemon::Cleanroom.Daemon;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// The socket is the daemon's whole access control: its directory must be the daemon's alone, the socket private
/// from birth, and the state directory and its files private too.
/// </summary>
public sealed class LocalAccessTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cr-access-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("world-writable")]
    [InlineData("group-writable")]
    [InlineData("someone else's")]
    [InlineData("a symbolic link")]
    public async Task A_hostile_socket_directory_stops_the_daemon_before_it_listens(string kind)
    {
        var socketDir = Path.Combine(_root, "run");
        var elsewhere = Directory.CreateDirectory(Path.Combine(_root, "elsewhere")).FullName;
        switch (kind)
        {
            case "world-writable":
                Directory.CreateDirectory(socketDir);
                File.SetUnixFileMode(socketDir, (UnixFileMode)0x1FF); // 0777
                break;
            case "group-writable":
                Directory.CreateDirectory(socketDir);
                File.SetUnixFileMode(socketDir, (UnixFileMode)0x1F8); // 0770
                break;
            case "someone else's":
                Directory.CreateDirectory(socketDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                await HostTool("chown", "65534:65534", socketDir);
                break;
            default:
                Directory.CreateSymbolicLink(socketDir, elsewhere);
                break;
        }

        var options = new DaemonOptions { SocketPath = Path.Combine(socketDir, "cleanroom.sock"), StateDir = Path.Combine(_root, "state") };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAsync<DaemonException>(() => DaemonHost.RunAsync(options, stop.Token));

        Assert.Contains("socket's directory", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(options.SocketPath));
        Assert.Empty(Directory.GetFileSystemEntries(elsewhere));
    }

    [Fact]
    public async Task The_state_directory_and_everything_in_it_is_private()
    {
        var state = Directory.CreateDirectory(Path.Combine(_root, "state")).FullName;
        File.SetUnixFileMode(state, (UnixFileMode)0x1ED); // 0755: narrowed at start
        await using var daemon = new TestDaemon(DaemonFixture.RequireAssets(RepoPaths.Assets), stateDir: state);
        await daemon.StartAsync();

        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(state)); // 0700
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(daemon.SocketPath)); // 0600
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(Path.Combine(state, "cleanroom.db")));
        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(Path.Combine(state, "sandboxes")));
    }

    private static async Task HostTool(string name, params string[] args)
    {
        using var process = System.Diagnostics.Process.Start(name, args);
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
    }
}
