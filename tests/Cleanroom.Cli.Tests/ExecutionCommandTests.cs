using Cleanroom.Api.V1;
using Cleanroom.Cli.Tests.FakeDaemon;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Cleanroom.Cli.Tests;

/// <summary>
/// <c>execution ls</c>, <c>execution inspect</c> and <c>status</c> against the fake daemon: what they ask for (across
/// sandboxes unless <c>--in</c>, the newest one for <c>--last</c>) and what a person or a script reads back.
/// </summary>
[Collection(FakeDaemonGroup.Name)]
public sealed class ExecutionCommandTests(FakeCleanroomDaemon daemon)
{
    private static readonly DateTime Start = DateTime.UtcNow.AddDays(1);

    private static int _tests;

    // Each test's executions are later than anything an earlier test made (tests in the collection run one at a
    // time), so they are the newest the shared fake daemon holds.
    private readonly DateTime _base = Start.AddHours(Interlocked.Increment(ref _tests));

    [Fact]
    public async Task Ls_without_in_lists_every_sandbox_newest_first_with_a_sandbox_column()
    {
        var (a, b) = (daemon.State.NextId("s"), daemon.State.NextId("s"));
        var older = Add(a, seconds: 1, ExecutionStatus.Succeeded, "make", "build");
        var newer = Add(b, seconds: 2, ExecutionStatus.Running, "make", "test");

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("execution", "ls", "--all"));

        var lines = cli.Out.TrimEnd('\n').Split('\n');
        Assert.Matches("^ID +SANDBOX +STATUS +EXIT +CREATED +COMMAND$", lines[0]);
        Assert.Matches($"^{newer} +{b} +running +\\S+ +make test$", lines[1]);
        Assert.Matches($"^{older} +{a} +succeeded +0 +\\S+ +make build$", lines[2]);
        var request = daemon.State.ListExecutionsRequests.Last();
        Assert.Equal(("", true, 0), (request.SandboxId, request.All, request.Limit));
    }

    [Fact]
    public async Task Ls_without_all_shows_only_running_executions_and_in_keeps_one_sandbox()
    {
        var sandbox = daemon.State.NextId("s");
        var finished = Add(sandbox, seconds: 1, ExecutionStatus.Failed, "false");
        var running = Add(sandbox, seconds: 2, ExecutionStatus.Running, "sleep", "60");
        Add(daemon.State.NextId("s"), seconds: 3, ExecutionStatus.Running, "elsewhere");

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("execution", "ls", "--in", sandbox));

        Assert.Matches($"^ID +STATUS +EXIT +CREATED +COMMAND\n{running} +running +\\S+ +sleep 60\n$", cli.Out);
        Assert.DoesNotContain(finished, cli.Out, StringComparison.Ordinal);
        Assert.Equal((sandbox, false), (daemon.State.ListExecutionsRequests.Last().SandboxId, daemon.State.ListExecutionsRequests.Last().All));
    }

    [Fact]
    public async Task Ls_limit_is_sent_and_a_cut_answer_says_so_on_stderr_only()
    {
        var sandbox = daemon.State.NextId("s");
        Add(sandbox, seconds: 1, ExecutionStatus.Succeeded, "one");
        var newest = Add(sandbox, seconds: 2, ExecutionStatus.Succeeded, "two");

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("execution", "ls", "--in", sandbox, "--all", "--limit", "1"));

        Assert.Equal(1, daemon.State.ListExecutionsRequests.Last().Limit);
        Assert.Equal(2, cli.Out.TrimEnd('\n').Split('\n').Length);
        Assert.Contains(newest, cli.Out, StringComparison.Ordinal);
        Assert.Equal("cleanroom: showing the newest 1; there are more (--limit up to 1000)\n", cli.Err);

        using var json = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await json.RunAsync("execution", "ls", "--in", sandbox, "--all", "--limit", "1", "--json"));
        var response = JsonParser.Default.Parse<ListExecutionsResponse>(json.Out);
        Assert.True(response.Truncated);
        Assert.Equal(newest, Assert.Single(response.Executions).ExecutionId);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    [InlineData("-3")]
    public async Task Ls_limit_out_of_range_is_a_usage_error(string limit)
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(2, await cli.RunAsync("execution", "ls", "--limit", limit));
        Assert.Equal("", cli.Out);
    }

    [Fact]
    public async Task Inspect_finds_an_execution_by_id_without_its_sandbox()
    {
        var sandbox = daemon.State.NextId("s");
        var id = Add(sandbox, seconds: 1, ExecutionStatus.Failed, "make", "test");

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("execution", "inspect", id));

        Assert.StartsWith($"execution_id: {id}\nsandbox_id: {sandbox}\nstatus: failed\ncommand: make test\nexit_code: 2\n", cli.Out, StringComparison.Ordinal);
        Assert.Equal("", daemon.State.GetExecutionRequests.Last().SandboxId);
    }

    [Fact]
    public async Task Inspect_with_another_sandbox_is_not_found()
    {
        var id = Add(daemon.State.NextId("s"), seconds: 1, ExecutionStatus.Succeeded, "true");
        var other = daemon.State.NextId("s");

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(1, await cli.RunAsync("execution", "inspect", id, "--in", other));
        Assert.Equal($"cleanroom: execution_not_found: unknown execution {id} in sandbox {other}\n", cli.Err);
    }

    [Fact]
    public async Task Inspect_last_is_the_newest_execution_overall_or_within_in()
    {
        var (a, b) = (daemon.State.NextId("s"), daemon.State.NextId("s"));
        var newestOfA = Add(a, seconds: 1, ExecutionStatus.Succeeded, "first");
        var newest = Add(b, seconds: 2, ExecutionStatus.Succeeded, "second");

        using var last = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await last.RunAsync("execution", "inspect", "--last", "--json"));
        Assert.Equal(newest, JsonParser.Default.Parse<Execution>(last.Out).ExecutionId);
        var request = daemon.State.ListExecutionsRequests.Last();
        Assert.Equal(("", true, 1), (request.SandboxId, request.All, request.Limit));

        using var lastOfA = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await lastOfA.RunAsync("execution", "inspect", "--last", "--in", a));
        Assert.StartsWith($"execution_id: {newestOfA}\n", lastOfA.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_needs_exactly_one_of_an_id_and_last()
    {
        using var neither = new CliHarness(daemon.Endpoint);
        Assert.Equal(2, await neither.RunAsync("execution", "inspect"));
        Assert.Contains("give an execution id or --last\n", neither.Err, StringComparison.Ordinal);

        using var both = new CliHarness(daemon.Endpoint);
        Assert.Equal(2, await both.RunAsync("execution", "inspect", "01kr7p9ksmfa7rmyypyqw2w8r0", "--last"));
        Assert.Contains("give an execution id or --last, not both", both.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Last_in_a_sandbox_without_executions_says_so_and_exits_1()
    {
        var empty = daemon.State.NextId("s");
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(1, await cli.RunAsync("status", "--in", empty));
        Assert.Equal($"cleanroom: sandbox {empty} has no executions\n", cli.Err);
    }

    [Fact]
    public async Task Status_summarises_a_run_for_people()
    {
        var sandbox = daemon.State.NextId("s");
        var id = Add(sandbox, seconds: 1, ExecutionStatus.Failed, "make", "test");
        var record = daemon.State.Executions[id].Record;
        record.StartedAt = Timestamp.FromDateTime(_base.AddSeconds(2));
        record.FinishedAt = Timestamp.FromDateTime(_base.AddSeconds(44.5));
        record.Error = "tests failed";

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("status", "--execution-id", id));

        var lines = cli.Out.TrimEnd('\n').Split('\n');
        Assert.Equal($"execution: {id}", lines[0]);
        Assert.Equal($"sandbox:   {sandbox}", lines[1]);
        Assert.Equal("command:   make test", lines[2]);
        Assert.Equal("status:    failed, exit code 2", lines[3]);
        Assert.Matches(@"^finished:  \S+Z \(took 42\.5s\)$", lines[6]);
        Assert.StartsWith("output:    on the daemon", lines[7], StringComparison.Ordinal);
        Assert.Equal("error:     tests failed", lines[8]);
        Assert.DoesNotContain("\u001b", cli.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_without_a_flag_is_the_last_execution_and_json_is_the_execution_message()
    {
        var id = Add(daemon.State.NextId("s"), seconds: 1, ExecutionStatus.Succeeded, "true");

        using var bare = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await bare.RunAsync("status"));
        Assert.StartsWith($"execution: {id}\n", bare.Out, StringComparison.Ordinal);

        using var json = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await json.RunAsync("status", "--last", "--json"));
        Assert.Equal(daemon.State.Executions[id].Snapshot(), JsonParser.Default.Parse<Execution>(json.Out));
    }

    [Fact]
    public async Task Status_colours_the_outcome_only_when_colour_is_on()
    {
        var id = Add(daemon.State.NextId("s"), seconds: 1, ExecutionStatus.Succeeded, "true");

        using var forced = new CliHarness(daemon.Endpoint) { Environment = { ["CLICOLOR_FORCE"] = "1" } };
        Assert.Equal(0, await forced.RunAsync("status", "--execution-id", id));
        Assert.Contains("status:    \u001b[32msucceeded, exit code 0\u001b[0m\n", forced.Out, StringComparison.Ordinal);

        using var noColor = new CliHarness(daemon.Endpoint) { StdoutIsTerminal = true, Environment = { ["NO_COLOR"] = "1" } };
        Assert.Equal(0, await noColor.RunAsync("status", "--execution-id", id));
        Assert.Contains("status:    succeeded, exit code 0\n", noColor.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", noColor.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_of_an_unknown_execution_exits_1_with_the_daemons_reason()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(1, await cli.RunAsync("status", "--execution-id", "e-nope"));
        Assert.Equal("cleanroom: unknown execution e-nope\n", cli.Err);
        Assert.Equal("", cli.Out);
    }

    [Fact]
    public async Task Status_with_both_last_and_an_id_is_a_usage_error()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(2, await cli.RunAsync("status", "--last", "--execution-id", "x"));
        Assert.Contains("give --last or --execution-id, not both", cli.Err, StringComparison.Ordinal);
    }

    /// <summary>A command line and an error that try to clear the screen and forge a line are shown escaped, in every view.</summary>
    [Fact]
    public async Task Hostile_command_and_error_text_is_escaped_everywhere()
    {
        var sandbox = daemon.State.NextId("s");
        var id = Add(sandbox, seconds: 1, ExecutionStatus.Failed, "sh", "-c", "\u001b[2J\nstatus: succeeded", "\u202eevil");
        daemon.State.Executions[id].Record.Error = "boom\u001b]0;pwned\u0007\nexit_code: 0";

        foreach (var args in new[] { new[] { "execution", "ls", "--in", sandbox, "--all" }, ["execution", "inspect", id], ["status", "--execution-id", id] })
        {
            using var cli = new CliHarness(daemon.Endpoint);
            Assert.Equal(0, await cli.RunAsync(args));
            Assert.DoesNotContain("\u001b", cli.Out, StringComparison.Ordinal);
            Assert.DoesNotContain("\u202e", cli.Out, StringComparison.Ordinal);
            Assert.DoesNotContain("\u0007", cli.Out, StringComparison.Ordinal);
            Assert.DoesNotMatch("(?m)^status: succeeded", cli.Out);
            Assert.DoesNotMatch("(?m)^exit_code: 0", cli.Out);
            Assert.Contains(@"sh -c '\x1b[2J\nstatus: succeeded' '\u202eevil'", cli.Out, StringComparison.Ordinal);
        }

        using var inspect = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await inspect.RunAsync("execution", "inspect", id));
        Assert.Contains(@"error: boom\x1b]0;pwned\x07\nexit_code: 0" + "\n", inspect.Out, StringComparison.Ordinal);
    }

    /// <summary>An execution the fake daemon holds as if it had run, created <paramref name="seconds"/> after the base time.</summary>
    private string Add(string sandboxId, int seconds, ExecutionStatus status, params string[] command)
    {
        var record = new Execution
        {
            ExecutionId = daemon.State.NextId("e"),
            SandboxId = sandboxId,
            Status = status,
            ExitCode = status == ExecutionStatus.Failed ? 2 : 0,
            CreatedAt = Timestamp.FromDateTime(_base.AddSeconds(seconds)),
        };
        record.Command.AddRange(command);
        daemon.State.Executions[record.ExecutionId] = new FakeExecution(record, new CreateExecutionRequest { SandboxId = sandboxId });
        return record.ExecutionId;
    }
}
