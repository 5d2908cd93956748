using Cleanroom.Api.V1;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// One real daemon for the test group, and one booted sandbox that tests which only run commands share, because
/// every boot costs seconds under TCG.
/// </summary>
public sealed class DaemonFixture : IAsyncLifetime
{
    public TestDaemon Daemon { get; } = new(RequireAssets(RepoPaths.Assets));

    public SandboxService.SandboxServiceClient Sandboxes => Daemon.Sandboxes;

    public ExecutionService.ExecutionServiceClient Executions => Daemon.Executions;

    public string StateDir => Daemon.StateDir;

    /// <summary>A READY sandbox for tests that only run commands in it.</summary>
    public string SharedSandboxId { get; private set; } = "";

    public static string RequireAssets(string dir) =>
        File.Exists(Path.Combine(dir, "assets.json")) ? dir : throw new InvalidOperationException($"boot assets are missing in {dir}: run scripts/setup.sh first");

    public async Task InitializeAsync()
    {
        await Daemon.StartAsync();
        await ReplaceSharedSandboxAsync();
    }

    public async Task ReplaceSharedSandboxAsync() =>
        SharedSandboxId = (await Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox.SandboxId;

    public Task StopDaemonAsync() => Daemon.StopAsync();

    public Task StartDaemonAsync() => Daemon.StartAsync();

    public async Task DisposeAsync() => await Daemon.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class DaemonTestGroup : ICollectionFixture<DaemonFixture>
{
    public const string Name = "daemon";
}
