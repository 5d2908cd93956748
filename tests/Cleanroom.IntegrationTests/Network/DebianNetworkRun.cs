namespace Cleanroom.IntegrationTests.Network;

/// <summary>
/// What most networked tests start from: a <see cref="NetworkedDaemon"/> with the Debian test image imported (curl,
/// a glibc resolver), and a scratch directory for the test's policies. Disposing stops the daemon and deletes the
/// directory.
/// </summary>
public sealed class DebianNetworkRun : IAsyncDisposable
{
    public const string Image = "debian-net-test:bookworm";

    private DebianNetworkRun(NetworkedDaemon daemon, string dir)
    {
        Daemon = daemon;
        Dir = dir;
    }

    public NetworkedDaemon Daemon { get; }

    public string Dir { get; }

    public static async Task<DebianNetworkRun> StartAsync(string dirPrefix, params string[] daemonArguments)
    {
        // Checked before anything starts: xunit does not dispose a class whose InitializeAsync failed.
        Assert.True(File.Exists(RepoPaths.DebianImage), $"{RepoPaths.DebianImage} is missing: scripts/test.sh builds it with scripts/build-debian-image.sh");
        var daemon = await NetworkedDaemon.StartAsync(daemonArguments);
        try
        {
            var imported = await daemon.CliAsync("image", "import", Image, RepoPaths.DebianImage);
            Assert.True(imported.ExitCode == 0, imported.Stderr);
            return new DebianNetworkRun(daemon, Directory.CreateTempSubdirectory(dirPrefix).FullName);
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }
    }

    /// <summary>A policy that boots the test image with <paramref name="network"/> (YAML lines under <c>network:</c>, indented by 6) as its network section.</summary>
    public static string Policy(string network) => """
        version: 1
        repository:
          enabled: false
        sandbox:
          image:
            ref: ghcr.io/buildkite/cleanroom-base/alpine@sha256:0000000000000000000000000000000000000000000000000000000000000001
          network:

        """ + network;

    /// <summary>The network lines that allow each of <paramref name="rules"/> (YAML list items).</summary>
    public static string Allow(params string[] rules) => "      allow:\n" + string.Concat(rules.Select(rule => $"        - {rule}\n"));

    /// <summary>Writes <see cref="Policy"/> of <paramref name="network"/> in a directory of its own; returns its path.</summary>
    public async Task<string> WritePolicyAsync(string name, string network)
    {
        var dir = Path.Combine(Dir, name);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "cleanroom.yaml");
        await File.WriteAllTextAsync(path, Policy(network));
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Daemon.DisposeAsync();
        }
        finally
        {
            Directory.Delete(Dir, recursive: true);
        }
    }
}
