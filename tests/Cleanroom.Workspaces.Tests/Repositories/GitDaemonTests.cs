using System.Diagnostics;
using System.Net.Sockets;
using Cleanroom.TestSupport;
using Cleanroom.Workspaces.Repositories;

namespace Cleanroom.Workspaces.Tests.Repositories;

/// <summary>The git:// transport, against a real <c>git daemon</c> on loopback.</summary>
public sealed class GitDaemonTests : IDisposable
{
    private readonly Scratch _scratch = new("cr-repo-daemon");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task A_git_url_is_mirrored_and_a_known_id_is_served_after_the_daemon_is_gone()
    {
        var root = Directory.CreateDirectory(_scratch.Combine("served")).FullName;
        var upstream = await Upstream.CreateAsync(root, "project", _scratch.Path);
        var head = await Shell.GitAsync(upstream.WorkPath, "rev-parse", "HEAD");
        var port = FreePort.Next();
        var store = new RepositoryStore(new() { StoreDirectory = _scratch.Combine("store"), GitEnvironment = Isolated });
        var url = $"git://127.0.0.1:{port}/project.git";

        MirroredCommit first;
        using (var daemon = await StartDaemonAsync(root, port))
        {
            try
            {
                first = await store.EnsureAsync(url, "main", CancellationToken.None);
            }
            finally
            {
                daemon.Kill(entireProcessTree: true);
                await daemon.WaitForExitAsync();
            }
        }

        var warm = await store.EnsureAsync(url, head, CancellationToken.None);

        Assert.True(first.Fetched);
        Assert.Equal(head, first.Commit);
        Assert.False(warm.Fetched);
        Assert.Equal($"git://127.0.0.1:{port}/project", warm.Url);
    }

    [Fact]
    public async Task An_unreachable_server_is_a_fetch_error_not_a_hang()
    {
        var store = new RepositoryStore(new() { StoreDirectory = _scratch.Combine("store"), GitEnvironment = Isolated });
        var error = await Assert.ThrowsAsync<RepositoryException>(
            () => store.EnsureAsync($"git://127.0.0.1:{FreePort.Next()}/nothing.git", "main", CancellationToken.None));

        Assert.Equal(RepositoryErrorKind.FetchFailed, error.Kind);
        Assert.Empty(Directory.EnumerateDirectories(_scratch.Combine("store"), "*.git"));
    }

    private static Dictionary<string, string> Isolated => new() { ["GIT_CONFIG_NOSYSTEM"] = "1", ["GIT_CONFIG_GLOBAL"] = "/dev/null" };

    internal static async Task<Process> StartDaemonAsync(string root, int port)
    {
        var daemon = Process.Start(new ProcessStartInfo(
            "git", ["daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1", $"--port={port}", $"--base-path={root}", root])
        {
            UseShellExecute = false,
        })!;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return daemon;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        daemon.Kill(entireProcessTree: true);
        throw new InvalidOperationException("git daemon did not start listening");
    }
}
