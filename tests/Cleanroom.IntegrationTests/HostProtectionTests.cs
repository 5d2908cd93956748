using System.Diagnostics;
using System.Text;
using Cleanroom.Api.V1;
using Grpc.Core;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// What a hostile guest or a vanished client must not be able to do to the host: unbounded output, forged text,
/// sandboxes that outlive their client, a boot that survives its terminate. One daemon with small limits.
/// </summary>
[Collection(DaemonTestGroup.Name)]
public sealed class HostProtectionTests : IAsyncLifetime
{
    private const long OutputCap = 1 << 20;
    private readonly TestDaemon _daemon = new(
        DaemonFixture.RequireAssets(RepoPaths.Assets),
        o => o with { MaxOutputBytes = OutputCap, DetachedGrace = TimeSpan.FromSeconds(1) });

    public Task InitializeAsync() => _daemon.StartAsync();

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    [Fact]
    public async Task Output_beyond_the_cap_is_cut_with_a_reason_and_the_log_goes_with_its_sandbox()
    {
        var id = await CreateAsync();

        // Twice the cap, in one burst.
        var result = await ExecResult.RunAsync(_daemon.Executions, id, ["dd", "if=/dev/zero", "bs=64k", "count=32"]);

        // The cap counts stdout and stderr together, and dd may finish into the guest's pipes and report on stderr
        // before the host reaches the cap: what was kept of both streams, before the daemon's own line, is the cap.
        var cutLine = $"\n[cleanroom] output cut at byte {OutputCap}: ";
        var cutAt = result.StderrText.IndexOf(cutLine, StringComparison.Ordinal);
        Assert.True(cutAt >= 0, $"stderr has no cut line: {result.StderrText}");
        Assert.Equal(OutputCap, result.Stdout.LongLength + Encoding.UTF8.GetByteCount(result.StderrText[..cutAt]));
        Assert.Equal(ExecutionStatus.Failed, result.Exit.Status);
        Assert.StartsWith("output limit", result.Exit.Message, StringComparison.Ordinal);
        var logs = Path.Combine(_daemon.StateDir, "executions", id);
        Assert.True(File.Exists(Path.Combine(logs, result.ExecutionId + ".log")));

        await _daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = id });

        Assert.False(Directory.Exists(logs), "a removed sandbox's output must be removed with it");
        var record = (await _daemon.Executions.GetExecutionAsync(new GetExecutionRequest { ExecutionId = result.ExecutionId })).Execution;
        Assert.StartsWith("output limit", record.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Escape_sequences_in_what_the_guest_reports_are_stored_escaped()
    {
        var id = await CreateAsync();

        // The agent reports an unknown program by name: a guest-controlled string with a terminal escape and a forged line.
        var result = await ExecResult.RunAsync(_daemon.Executions, id, ["\u001b[2J\u001b]0;pwned\u0007\nstatus: forged"]);
        await _daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = id });

        Assert.NotEqual(0, result.Exit.ExitCode);
        Assert.Contains("\\x1b[2J", result.Exit.Message, StringComparison.Ordinal);
        Assert.Contains("\\nstatus: forged", result.Exit.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(result.Exit.Message, c => char.IsControl(c));
        var record = (await _daemon.Executions.GetExecutionAsync(new GetExecutionRequest { ExecutionId = result.ExecutionId })).Execution;
        Assert.DoesNotContain(record.Error, c => char.IsControl(c));
    }

    [Fact]
    public async Task Terminating_a_booting_sandbox_stops_the_boot_and_leaves_nothing()
    {
        var before = (await _daemon.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest { All = true })).Sandboxes.Select(s => s.SandboxId).ToHashSet();
        var create = _daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest()).ResponseAsync;
        var id = await WaitForAsync(async () =>
            (await _daemon.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest())).Sandboxes
                .FirstOrDefault(s => !before.Contains(s.SandboxId) && s.Status == SandboxStatus.Provisioning)?.SandboxId);

        await _daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = id });

        var error = await Assert.ThrowsAsync<RpcException>(() => create);
        Assert.Equal(StatusCode.Aborted, error.StatusCode);
        var record = (await _daemon.Sandboxes.GetSandboxAsync(new GetSandboxRequest { SandboxId = id })).Sandbox;
        Assert.Equal(SandboxStatus.Stopped, record.Status);
        Assert.Contains("booting", record.StatusMessage, StringComparison.Ordinal);
        Assert.Empty(_daemon.QemuProcesses(id));
        Assert.False(Directory.Exists(Path.Combine(_daemon.StateDir, "sandboxes", id)));
    }

    [Fact]
    public async Task A_sandbox_made_for_one_exec_is_removed_when_its_client_is_killed()
    {
        var cli = Path.Combine(RepoPaths.Root, ".build", "bin", "cleanroom");
        Assert.True(File.Exists(cli), $"the CLI is not built at {cli}: run scripts/setup.sh");
        // An empty working directory: no cleanroom.yaml there, so the exec gets no policy.
        var cwd = Directory.CreateTempSubdirectory("cr-it-cwd-");
        using var removeCwd = new DirectoryRemoval(cwd);
        var start = new ProcessStartInfo(cli, ["--host", "unix://" + _daemon.SocketPath, "exec", "--no-stdin", "--", "sleep", "600"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = cwd.FullName,
        };
        using var client = Process.Start(start)!;
        var sandbox = await WaitForAsync(async () =>
            (await _daemon.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest())).Sandboxes
                .FirstOrDefault(s => s.AutoRemove && s.Status == SandboxStatus.Ready && s.ActiveExecutionId.Length > 0));

        client.Kill(); // SIGKILL: no cleanup of its own
        await client.WaitForExitAsync();

        var gone = await WaitForAsync(async () =>
        {
            var now = (await _daemon.Sandboxes.GetSandboxAsync(new GetSandboxRequest { SandboxId = sandbox.SandboxId })).Sandbox;
            return now.Status == SandboxStatus.Stopped ? now : null;
        });
        Assert.Contains("went away", gone.StatusMessage, StringComparison.Ordinal);
        Assert.Empty(_daemon.QemuProcesses(sandbox.SandboxId));
    }

    private async Task<string> CreateAsync() =>
        (await _daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest())).Sandbox.SandboxId;

    /// <summary>Polls the API until <paramref name="probe"/> yields a value (the daemon has no event feed yet); 60 s at most.</summary>
    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (await probe() is { } value)
            {
                return value;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("the expected state was not reached within 60 s");
    }

    private sealed class DirectoryRemoval(DirectoryInfo directory) : IDisposable
    {
        public void Dispose() => directory.Delete(recursive: true);
    }
}
