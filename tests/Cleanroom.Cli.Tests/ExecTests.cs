using System.Diagnostics;
using Cleanroom.Api.V1;
using Cleanroom.Cli.Tests.FakeDaemon;
using Cleanroom.Client;

namespace Cleanroom.Cli.Tests;

/// <summary><c>cleanroom exec</c> against the fake daemon: streaming, stdin, exit codes, interrupts, cleanup.</summary>
[Collection(FakeDaemonGroup.Name)]
public sealed class ExecTests(FakeCleanroomDaemon daemon)
{
    /// <summary>RunExecution, CreateExecution and StreamExecution calls the fake daemon has seen so far.</summary>
    private (int Run, int Create, int Stream) ExecutionCalls() =>
        (daemon.State.Calls.Count(c => c == "RunExecution"), daemon.State.Calls.Count(c => c == "CreateExecution"), daemon.State.Calls.Count(c => c == "StreamExecution"));

    private (int Run, int Create, int Stream) Since((int Run, int Create, int Stream) before)
    {
        var now = ExecutionCalls();
        return (now.Run - before.Run, now.Create - before.Create, now.Stream - before.Stream);
    }

    private static string CreatedSandboxId(CliHarness cli) =>
        cli.Err.Split('\n').Single(line => line.StartsWith("sandbox_id=", StringComparison.Ordinal))["sandbox_id=".Length..];

    [Fact]
    public async Task Streams_stdout_and_stderr_separately_and_exits_with_the_command_code()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(3, await cli.RunAsync("exec", "--print-sandbox-id", "--", "both"));
        Assert.Equal("o1\no2\n", cli.Out);
        var id = CreatedSandboxId(cli);
        Assert.Equal($"sandbox_id={id}\ne1\n", cli.Err);
        Assert.Equal(26, id.Length);
    }

    [Fact]
    public async Task On_the_daemons_socket_reads_the_output_from_the_log_file_the_daemon_names()
    {
        // The fake sends no output bytes for "logged": only the file, its lengths and the exit.
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(3, await cli.RunAsync("exec", "--", "logged"));
        Assert.Equal("o1\no2\n", cli.Out);
        Assert.Equal("e1\n", cli.Err);
    }

    [Fact]
    public async Task A_log_file_that_is_not_the_daemons_here_is_not_read_and_the_output_comes_over_the_socket()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(3, await cli.RunAsync("exec", "--", "logged-elsewhere"));
        Assert.Equal("o1\no2\n", cli.Out);
        Assert.Equal("e1\n", cli.Err);
    }

    [Theory]
    // The published length ends inside the second record: the client stops before it.
    [InlineData("logged-torn")]
    // The file holds less than the published length: the first record, printed before that showed, counts.
    [InlineData("logged-short")]
    public async Task A_log_unreadable_up_to_its_published_length_hands_over_to_the_socket_after_exactly_what_was_printed(string command)
    {
        using var cli = new CliHarness(daemon.Endpoint);
        // Bounded: a client that read past the published length would wait for a length that never comes.
        Assert.Equal(3, await cli.RunAsync("exec", "--", command).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal("o1\no2\n", cli.Out);
        Assert.Equal("e1\n", cli.Err);
        var resumed = daemon.State.StreamExecutionRequests.Single(r => daemon.State.Executions[r.ExecutionId].Request.Command[0] == command);
        Assert.Equal(3, resumed.OutputOffset);
    }

    [Fact]
    public async Task The_installed_cli_sends_the_logged_output_into_its_stdout_and_stderr_pipes_whole_and_in_order()
    {
        // The real executable, whose standard streams are pipes here: the log's records go into them by sendfile.
        using var cli = new RealCli(new Dictionary<string, string> { [EndpointResolver.HostVariable] = daemon.Endpoint }, "exec", "--", "logged");
        var (exitCode, stderr) = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(3, exitCode);
        Assert.Equal("o1\no2\n", await cli.Stdout);
        Assert.Equal("e1\n", stderr);
    }

    [Fact]
    public async Task Logged_output_appended_to_files_which_take_no_sendfile_still_arrives_whole_after_what_they_held()
    {
        // A file opened for appending refuses sendfile (EINVAL): the output goes through the stream instead.
        var directory = Directory.CreateTempSubdirectory("cleanroom-append-").FullName;
        try
        {
            var stdout = Path.Join(directory, "out");
            var stderr = Path.Join(directory, "err");
            await File.WriteAllTextAsync(stdout, "before\n");
            await File.WriteAllTextAsync(stderr, "before\n");
            var start = new ProcessStartInfo("/bin/sh", ["-c", "exec \"$0\" exec -- logged >>\"$1\" 2>>\"$2\"", Path.Join(AppContext.BaseDirectory, "cli", "cleanroom"), stdout, stderr])
            {
                UseShellExecute = false,
                WorkingDirectory = directory,
            };
            start.Environment[EndpointResolver.HostVariable] = daemon.Endpoint;
            using var shell = Process.Start(start)!;
            await shell.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(3, shell.ExitCode);
            Assert.Equal("before\no1\no2\n", await File.ReadAllTextAsync(stdout));
            Assert.Equal("before\ne1\n", await File.ReadAllTextAsync(stderr));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Removes_the_sandbox_it_created()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("exec", "--print-sandbox-id", "--", "true"));
        Assert.Contains(CreatedSandboxId(cli), daemon.State.Terminated);
    }

    [Fact]
    public async Task Keep_leaves_the_created_sandbox_running()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("exec", "--keep", "--print-sandbox-id", "--", "true"));
        var id = CreatedSandboxId(cli);
        Assert.DoesNotContain(id, daemon.State.Terminated);
        Assert.Equal(SandboxStatus.Ready, daemon.State.Sandboxes[id].Status);
    }

    [Fact]
    public async Task In_uses_the_given_sandbox_and_never_removes_it()
    {
        using var create = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await create.RunAsync("sandbox", "create"));
        var id = create.Out.Trim();
        var creates = daemon.State.CreateRequests.Count;

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(3, await cli.RunAsync("exec", "--in", id, "--", "both"));
        Assert.Equal(creates, daemon.State.CreateRequests.Count);
        Assert.DoesNotContain(id, daemon.State.Terminated);
        Assert.Equal(id, daemon.State.Executions[daemon.State.Sandboxes[id].LastExecutionId].Record.SandboxId);
    }

    [Fact]
    public async Task One_call_starts_the_command_and_streams_its_output()
    {
        using var create = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await create.RunAsync("sandbox", "create"));
        var before = ExecutionCalls();

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(3, await cli.RunAsync("exec", "--in", create.Out.Trim(), "--", "both"));

        Assert.Equal("o1\no2\n", cli.Out);
        Assert.Equal("e1\n", cli.Err);
        Assert.Equal((1, 0, 0), Since(before));
    }

    [Fact]
    public async Task A_daemon_without_the_one_call_gets_create_and_stream()
    {
        using var create = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await create.RunAsync("sandbox", "create"));
        var before = ExecutionCalls();
        daemon.State.WithoutRunExecution = true;
        try
        {
            using var cli = new CliHarness(daemon.Endpoint);
            Assert.Equal(3, await cli.RunAsync("exec", "--in", create.Out.Trim(), "--", "both"));

            Assert.Equal("o1\no2\n", cli.Out);
            Assert.Equal("e1\n", cli.Err);
            Assert.Equal((1, 1, 1), Since(before));
        }
        finally
        {
            daemon.State.WithoutRunExecution = false;
        }
    }

    [Fact]
    public async Task In_without_its_id_is_a_usage_error_not_a_crash()
    {
        // An empty shell variable (`--in "$ID" --` with ID unset) used to crash the CLI with a stack trace (exit 134).
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(2, await cli.RunAsync("exec", "--in", "--", "true"));
        Assert.Contains("'--in'", cli.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Image_goes_to_the_new_sandbox()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("exec", "--image", "alpine:3.20", "--print-sandbox-id", "--", "true"));
        Assert.Equal("alpine:3.20", daemon.State.Sandboxes[CreatedSandboxId(cli)].ImageRef);
    }

    [Fact]
    public async Task Forwards_piped_stdin_in_chunks_and_closes_it_at_end_of_file()
    {
        var input = new byte[200 * 1024 + 7];
        new Random(7).NextBytes(input);
        using var cli = new CliHarness(daemon.Endpoint) { Stdin = new MemoryStream(input) };
        Assert.Equal(0, await cli.RunAsync("exec", "--", "cat", "stdin-test"));
        Assert.Equal(input, cli.Stdout.Bytes);
        var execution = await daemon.State.WaitStartedAsync("cat stdin-test");
        Assert.True(execution.Request.Options.AttachStdin);
        Assert.InRange(execution.LargestStdinChunk, 1, 64 * 1024);
    }

    [Fact]
    public async Task No_stdin_a_terminal_on_stdin_and_dev_null_do_not_attach_it()
    {
        using var flag = new CliHarness(daemon.Endpoint) { Stdin = new MemoryStream([1, 2, 3]) };
        Assert.Equal(0, await flag.RunAsync("exec", "-n", "--", "env", "no-stdin"));
        Assert.Contains("attach_stdin=False\n", flag.Out, StringComparison.Ordinal);

        using var terminal = new CliHarness(daemon.Endpoint) { StdinIsTerminal = true };
        Assert.Equal(0, await terminal.RunAsync("exec", "--", "env", "terminal-stdin"));
        Assert.Contains("attach_stdin=False\n", terminal.Out, StringComparison.Ordinal);

        using var devNull = new CliHarness(daemon.Endpoint) { StdinIsNull = true };
        Assert.Equal(0, await devNull.RunAsync("exec", "--", "env", "null-stdin"));
        Assert.Contains("attach_stdin=False\n", devNull.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Stdin_from_dev_null_is_recognised_and_a_file_or_pipe_is_not()
    {
        using var devNull = File.OpenHandle("/dev/null");
        var file = Path.GetTempFileName();
        try
        {
            using var regular = File.OpenHandle(file);
            using var pipe = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out);
            Assert.True(CliContext.IsNullDevice($"/proc/self/fd/{devNull.DangerousGetHandle()}"));
            Assert.False(CliContext.IsNullDevice($"/proc/self/fd/{regular.DangerousGetHandle()}"));
            Assert.False(CliContext.IsNullDevice($"/proc/self/fd/{pipe.ClientSafePipeHandle.DangerousGetHandle()}"));
            Assert.False(CliContext.IsNullDevice("/proc/self/fd/999999"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Env_cwd_user_and_argv_reach_the_daemon()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        cli.Environment["PASSED"] = "from client";
        Assert.Equal(0, await cli.RunAsync("exec", "-e", "A=1", "-e", "PASSED", "--cwd", "/work", "--user", "builder", "--", "env", "with spaces", "--keep"));
        Assert.Equal(
            "A=1\nPASSED=from client\ncwd=/work\nuser=builder\ntty=False\nattach_stdin=True\nargv=env|with spaces|--keep\n",
            cli.Out);
    }

    [Fact]
    public async Task Command_not_found_keeps_127_and_says_why()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(127, await cli.RunAsync("exec", "--", "missing"));
        Assert.Equal("cleanroom: command not found: missing\n", cli.Err);
    }

    [Fact]
    public async Task A_stream_without_an_exit_event_falls_back_to_the_execution_record()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(5, await cli.RunAsync("exec", "--", "no-exit"));
        Assert.Equal("partial\n", cli.Out);
    }

    [Fact]
    public async Task A_broken_stream_falls_back_to_the_record_and_warns()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(4, await cli.RunAsync("exec", "--", "stream-fails"));
        Assert.Equal("partial\n", cli.Out);
        // It tried once more (the daemon may have restarted), then fell back to the record.
        Assert.Matches("^cleanroom: lost the output stream of execution \\S+ \\(daemon restarted\\); reconnecting, the command goes on in its sandbox\ncleanroom: the output stream failed: daemon restarted; output may be incomplete\n$", cli.Err);
    }

    [Fact]
    public async Task A_stream_lost_while_the_command_runs_exits_1()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(1, await cli.RunAsync("exec", "--", "stream-lost"));
        Assert.Matches("^cleanroom: the output stream ended without an exit status while execution \\S+ is still running\n$", cli.Err);
    }

    [Fact]
    public async Task Output_is_written_live_before_the_command_ends()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        var run = cli.RunAsync("exec", "--", "gated", "live");
        await cli.Stdout.WaitForAsync("first\n");
        Assert.False(run.IsCompleted);
        daemon.State.Gate("gated live").SetResult();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("first\nsecond\n", cli.Out);
    }

    [Fact]
    public async Task Megabytes_of_output_arrive_intact()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("exec", "--", "big"));
        Assert.Equal(FakeBehaviours.BigOutput, cli.Stdout.Bytes);
    }

    [Fact]
    public async Task First_interrupt_sends_sigint_and_keeps_streaming_until_the_command_exits()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        var run = cli.RunAsync("exec", "--print-sandbox-id", "--", "wait-signal", "once");
        var execution = await daemon.State.WaitStartedAsync("wait-signal once");
        Assert.True(cli.Context.Interrupts.Raise(2));
        Assert.Equal(130, await run.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(ExecutionStatus.Canceled, execution.Record.Status);
        Assert.Contains(CreatedSandboxId(cli), daemon.State.Terminated);
    }

    [Fact]
    public async Task Second_interrupt_detaches_with_130_and_still_removes_the_sandbox()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        var run = cli.RunAsync("exec", "--print-sandbox-id", "--", "hang", "twice");
        var execution = await daemon.State.WaitStartedAsync("hang twice");
        cli.Context.Interrupts.Raise(2);
        cli.Context.Interrupts.Raise(2);
        Assert.Equal(130, await run.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(ExecutionStatus.Running, execution.Record.Status);
        Assert.Contains(CreatedSandboxId(cli), daemon.State.Terminated);
    }

    [Fact]
    public async Task Detaching_from_a_sandbox_given_with_in_leaves_it_alone()
    {
        using var create = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await create.RunAsync("sandbox", "create"));
        var id = create.Out.Trim();

        using var cli = new CliHarness(daemon.Endpoint);
        var run = cli.RunAsync("exec", "--in", id, "--", "hang", "in-sandbox");
        await daemon.State.WaitStartedAsync("hang in-sandbox");
        cli.Context.Interrupts.Raise(2);
        cli.Context.Interrupts.Raise(2);
        Assert.Equal(130, await run.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.DoesNotContain(id, daemon.State.Terminated);
    }

    [Fact]
    public async Task An_interrupt_while_the_sandbox_boots_gives_up_at_once()
    {
        daemon.State.SlowCreateStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cli = new CliHarness(daemon.Endpoint);
        var run = cli.RunAsync("exec", "--image", "slow", "--", "true");
        await daemon.State.SlowCreateStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        cli.Context.Interrupts.Raise(2);
        Assert.Equal(130, await run.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task A_closed_stdout_stops_the_command_with_sigpipe()
    {
        using var cli = new CliHarness(daemon.Endpoint) { Stdout = new CaptureStream { FailAfterBytes = 20 } };
        Assert.Equal(141, await cli.RunAsync("exec", "--", "yes", "pipe"));
        var execution = await daemon.State.WaitStartedAsync("yes pipe");
        await WaitUntilAsync(() => execution.Record.Status == ExecutionStatus.Canceled);
    }

    [Fact]
    public async Task A_daemon_error_exits_1_with_its_message_and_removes_the_created_sandbox()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(1, await cli.RunAsync("exec", "--print-sandbox-id", "--", "refuse"));
        var id = CreatedSandboxId(cli);
        Assert.EndsWith($"cleanroom: sandbox {id} is not ready\n", cli.Err, StringComparison.Ordinal);
        Assert.Contains(id, daemon.State.Terminated);
    }

    [Fact]
    public async Task An_unknown_sandbox_exits_1()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(1, await cli.RunAsync("exec", "--in", "01kr7p9ksmfa7rmyypyqw2w8r0", "--", "true"));
        Assert.Equal("cleanroom: unknown sandbox 01kr7p9ksmfa7rmyypyqw2w8r0\n", cli.Err);
    }

    [Fact]
    public async Task A_failed_create_exits_1_with_the_reason()
    {
        daemon.State.CreateSandboxError = "boot timed out after 60 s";
        try
        {
            using var cli = new CliHarness(daemon.Endpoint);
            Assert.Equal(1, await cli.RunAsync("exec", "--", "true"));
            Assert.Equal("cleanroom: boot timed out after 60 s\n", cli.Err);
        }
        finally
        {
            daemon.State.CreateSandboxError = null;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 20 s");
            await Task.Delay(10);
        }
    }
}
