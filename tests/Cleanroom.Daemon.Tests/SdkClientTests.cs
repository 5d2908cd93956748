using System.Text;
using Cleanroom.Api.V1;
using Cleanroom.Client;
using Cleanroom.Client.Sdk;
using Cleanroom.Daemon.Tests.Fakes;
using Grpc.Core;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The .NET SDK (<see cref="CleanroomClient"/>) against the real control API over its unix socket, with fake VMs:
/// sandboxes by key (one per key, serialised in the daemon), exec streaming and cancellation, file transfers.
/// </summary>
public sealed class SdkClientTests
{
    [Fact]
    public async Task Concurrent_ensures_with_one_key_from_two_clients_boot_one_sandbox()
    {
        await using var host = await ControlApiHost.StartAsync();
        using var first = Client(host);
        using var second = Client(host);
        host.Harness.Backend.HoldStarts = true;

        var a = first.EnsureSandboxAsync("ci/repo/main");
        var held = await host.Harness.Backend.NextHeldStartAsync();
        var b = second.EnsureSandboxAsync("ci/repo/main");
        held.Release();
        var results = await Task.WhenAll(a, b).WaitAsync(Waits.Bound);

        Assert.Equal(results[0].SandboxId, results[1].SandboxId);
        Assert.True(results[0].Created);
        Assert.False(results[1].Created);
        Assert.Equal(1, host.Harness.Backend.StartCalls);
        Assert.Equal("ci/repo/main", results[1].Sandbox.ClientKey);
        Assert.Equal(SandboxStatus.Ready, results[1].Sandbox.Status);
        var listed = await first.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest { ClientKey = "ci/repo/main" });
        Assert.Equal(results[0].SandboxId, Assert.Single(listed.Sandboxes).SandboxId);
    }

    [Fact]
    public async Task Different_keys_get_different_sandboxes_and_the_list_filters_by_key()
    {
        await using var host = await ControlApiHost.StartAsync();
        using var client = Client(host);

        var a = await client.EnsureSandboxAsync("agent-a");
        var b = await client.EnsureSandboxAsync("agent-b");
        var unkeyed = await host.Harness.CreateAsync();

        Assert.NotEqual(a.SandboxId, b.SandboxId);
        Assert.True(a.Created && b.Created);
        var onlyB = await client.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest { ClientKey = "agent-b" });
        Assert.Equal(b.SandboxId, Assert.Single(onlyB.Sandboxes).SandboxId);
        var all = await client.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest());
        Assert.Equal(3, all.Sandboxes.Count);
        Assert.Equal("", all.Sandboxes.Single(s => s.SandboxId == unkeyed.Id).ClientKey);
    }

    [Fact]
    public async Task A_terminated_keyed_sandbox_is_replaced_by_the_next_ensure()
    {
        await using var host = await ControlApiHost.StartAsync();
        using var client = Client(host);
        var old = await client.EnsureSandboxAsync("replace-me");
        Assert.False((await client.EnsureSandboxAsync("replace-me")).Created);

        await client.TerminateSandboxAsync(old.SandboxId);
        var replacement = await client.EnsureSandboxAsync("replace-me");

        Assert.True(replacement.Created);
        Assert.NotEqual(old.SandboxId, replacement.SandboxId);
        Assert.Equal(2, host.Harness.Backend.StartCalls);
        var history = await client.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest { ClientKey = "replace-me", All = true });
        Assert.Equal([replacement.SandboxId, old.SandboxId], history.Sandboxes.Select(s => s.SandboxId));
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("semi;colon")]
    [InlineData("new\nline")]
    [InlineData("ключ")]
    public async Task A_malformed_key_is_refused_with_invalid_argument_and_nothing_boots(string key)
    {
        await using var host = await ControlApiHost.StartAsync();
        using var client = Client(host);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.EnsureSandboxAsync(key));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("invalid_argument", DaemonErrors.ReasonCode(error));
        Assert.Contains("client_key", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, host.Harness.Backend.StartCalls);
    }

    [Fact]
    public async Task A_key_longer_than_128_characters_or_combined_with_auto_remove_is_refused()
    {
        await using var host = await ControlApiHost.StartAsync();
        using var client = Client(host);
        Assert.Equal("invalid_argument", DaemonErrors.ReasonCode(await Assert.ThrowsAsync<RpcException>(() => client.EnsureSandboxAsync(new string('k', 129)))));

        var combined = await Assert.ThrowsAsync<RpcException>(() => client.Sandboxes.CreateSandboxAsync(
            new CreateSandboxRequest { ClientKey = "k", AutoRemove = true }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, combined.StatusCode);
        Assert.Contains("auto_remove", combined.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, host.Harness.Backend.StartCalls);
        Assert.True((await client.EnsureSandboxAsync(new string('k', 128))).Created);
    }

    [Fact]
    public async Task Exec_writes_stdout_and_stderr_to_the_callers_writers_and_returns_the_exit_code()
    {
        await using var host = await ControlApiHost.StartAsync();
        using var client = Client(host);
        var sandbox = await client.EnsureSandboxAsync("exec");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var result = await client.ExecAsync(sandbox.SandboxId, ["split", "to-out", "to-err", "3"], stdout, stderr);

        Assert.Equal("to-out\n", stdout.ToString());
        Assert.Equal("to-err\n", stderr.ToString());
        Assert.Equal(3, result.ExitCode);
        Assert.Equal(0, result.Signal);
        Assert.Equal(Cleanroom.Client.Exec.ExecOutcome.Exited, result.Outcome);
        var record = (await client.Executions.GetExecutionAsync(new GetExecutionRequest { SandboxId = sandbox.SandboxId, ExecutionId = result.ExecutionId })).Execution;
        Assert.Equal(["split", "to-out", "to-err", "3"], record.Command);
    }

    [Fact]
    public async Task Exec_forwards_stdin_and_writes_raw_bytes_to_streams()
    {
        await using var host = await ControlApiHost.StartAsync();
        using var client = Client(host);
        var sandbox = await client.EnsureSandboxAsync("stdin");
        var input = Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7)).ToArray();
        var stdout = new MemoryStream();

        var result = await client.ExecAsync(sandbox.SandboxId, ["cat"], stdout, Stream.Null, new MemoryStream(input));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(input, stdout.ToArray());
    }

    [Fact]
    public async Task Cancelling_an_exec_kills_the_remote_command_and_throws()
    {
        await using var host = await ControlApiHost.StartAsync();
        using var client = Client(host);
        var sandbox = await client.EnsureSandboxAsync("cancel");
        using var cancel = new CancellationTokenSource();

        var exec = client.ExecAsync(sandbox.SandboxId, ["wait"], Stream.Null, Stream.Null, cancellationToken: cancel.Token);
        var started = await host.Harness.Backend.Programs.Started.ReadAsync().AsTask().WaitAsync(Waits.Bound);
        Assert.Equal("wait", started.Argv[0]);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => exec.WaitAsync(Waits.Bound));
        var execution = Assert.Single((await client.Executions.ListExecutionsAsync(new ListExecutionsRequest { SandboxId = sandbox.SandboxId, All = true })).Executions);
        Assert.Equal(Signals.Kill, execution.Signal);
        Assert.Equal(Signals.ExitCode(Signals.Kill), execution.ExitCode);
        Assert.NotEqual(ExecutionStatus.Running, execution.Status);
        Assert.Equal("", (await client.Sandboxes.GetSandboxAsync(new GetSandboxRequest { SandboxId = sandbox.SandboxId })).Sandbox.ActiveExecutionId);
    }

    [Fact]
    public async Task Exec_in_an_unknown_sandbox_fails_with_the_daemons_reason()
    {
        await using var host = await ControlApiHost.StartAsync();
        using var client = Client(host);

        var error = await Assert.ThrowsAsync<ExecFailedException>(() =>
            client.ExecAsync("01kr7p9ksmfa7rmyypyqw2w8r0", ["echo"], Stream.Null, Stream.Null));

        Assert.Contains("sandbox_not_found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_uploaded_file_downloads_with_the_same_bytes()
    {
        await using var host = await ControlApiHost.StartAsync();
        using var client = Client(host);
        var sandbox = await client.EnsureSandboxAsync("files");
        var content = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("line of the report\n", 10_000))); // several upload chunks

        var written = await client.UploadFileAsync(sandbox.SandboxId, "/work/report.txt", content);
        var downloaded = await client.DownloadFileAsync(sandbox.SandboxId, "/work/report.txt");

        Assert.Equal(content.Length, written);
        Assert.Equal(content, downloaded);
        Assert.Equal(content, host.Harness.Backend.Programs.Files["/work/report.txt"]);
        var missing = await Assert.ThrowsAsync<RpcException>(() => client.DownloadFileAsync(sandbox.SandboxId, "/work/absent.txt"));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
    }

    private static CleanroomClient Client(ControlApiHost host) => new(DaemonEndpoint.ForSocket(host.SocketPath));
}
