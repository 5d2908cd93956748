namespace Cleanroom.IntegrationTests.Workspaces;

/// <summary>One daemon with the Debian base image (it has git) imported, shared by the workspace tests.</summary>
public sealed class WorkspaceEnvironment : IAsyncLifetime
{
    public const string Image = "debian-ws-test:bookworm";

    /// <summary>The same image with <c>User: nobody</c> in its config.</summary>
    public const string NonRootImage = "debian-ws-nobody:bookworm";

    public TestDaemon Daemon { get; } = new(DaemonFixture.RequireAssets(RepoPaths.Assets));

    public async Task InitializeAsync()
    {
        await Daemon.StartAsync();
        Assert.True(File.Exists(RepoPaths.DebianImage), $"{RepoPaths.DebianImage} is missing: scripts/test.sh builds it with scripts/build-debian-image.sh");
        var imported = await CliAsync(null, "image", "import", Image, RepoPaths.DebianImage);
        Assert.True(imported.ExitCode == 0, imported.Stderr);

        var work = Directory.CreateTempSubdirectory("cr-it-image-").FullName;
        try
        {
            var archive = Path.Combine(work, "nobody.oci.tar");
            ImageWithUser.Write(RepoPaths.DebianImage, "nobody", work, archive);
            var nonRoot = await CliAsync(null, "image", "import", NonRootImage, archive);
            Assert.True(nonRoot.ExitCode == 0, nonRoot.Stderr);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Runs the installed CLI in <paramref name="workingDirectory"/> (null: outside any repository).</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> CliAsync(string? workingDirectory, params string[] args) =>
        InstalledCli.RunAsync(Daemon.SocketPath, workingDirectory, args);

    public async Task DisposeAsync() => await Daemon.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class WorkspaceTestGroup : ICollectionFixture<WorkspaceEnvironment>
{
    public const string Name = "workspaces";
}
