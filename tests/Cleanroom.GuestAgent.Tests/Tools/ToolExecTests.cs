using Cleanroom.Guest.Wire.Messages;
using Cleanroom.GuestAgent.Tools;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>A Tool request through the real exec path: the agent binary in --tool mode, as root or through exec-as.</summary>
public sealed class ToolExecTests : IDisposable
{
    private readonly TempTree _tree = new();

    [Fact]
    public async Task A_tool_request_runs_the_agent_binary_without_a_path_lookup()
    {
        _tree.Write("dir/file", "data");
        await using var agent = await AgentHarness.StartAsync();

        var result = await agent.RunAsync(new ExecRequest { Argv = ["stat", "file"], Cwd = _tree.Path("dir"), Tool = true, Env = ["PATH=/nonexistent"] });

        Assert.Equal(0, result.Exit.ExitCode);
        Assert.StartsWith("{\"path\":\"file\",\"type\":\"file\",", result.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Archive_output_and_extract_input_stream_through_the_exec()
    {
        _tree.Write("src/a.txt", "alpha");
        _tree.Write("src/b/c.txt", "gamma");
        await using var agent = await AgentHarness.StartAsync();

        var archive = await agent.RunAsync(new ExecRequest { Argv = ["archive", "--base", _tree.Root, "src"], Cwd = _tree.Root, Tool = true });
        Assert.Equal((0, ""), (archive.Exit.ExitCode, archive.StderrText));

        var extract = await agent.RunAsync(
            new ExecRequest { Argv = ["extract", _tree.Path("out")], Tool = true },
            async process => await process.WriteStdinAsync(archive.Stdout, CancellationToken.None));
        Assert.Equal((0, "", ""), (extract.Exit.ExitCode, extract.StdoutText, extract.StderrText));
        Assert.Equal("gamma", File.ReadAllText(_tree.Path("out/src/b/c.txt")));
    }

    [Fact]
    public async Task A_tool_runs_as_the_requested_user()
    {
        var shared = _tree.Mkdir("shared");
        FileOps.ChangeMode(_tree.Root, 0x1FF);
        FileOps.ChangeMode(shared, 0x1FF);
        await using var agent = await AgentHarness.StartAsync();
        var tar = ToolRunner.Tar(ToolRunner.File("mine", "x"));

        var extract = await agent.RunAsync(
            new ExecRequest { Argv = ["extract", shared], Tool = true, User = "65534:65534" },
            async process => await process.WriteStdinAsync(tar, CancellationToken.None));
        Assert.Equal((0, ""), (extract.Exit.ExitCode, extract.StderrText));

        var stat = await agent.RunAsync(new ExecRequest { Argv = ["stat", Path.Combine(shared, "mine")], Tool = true, User = "65534:65534" });
        Assert.Contains("\"uid\":65534,\"gid\":65534", stat.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_tools_and_bad_arguments_exit_2()
    {
        await using var agent = await AgentHarness.StartAsync();

        var result = await agent.RunAsync(new ExecRequest { Argv = ["no-such-tool"], Tool = true });

        Assert.Equal(2, result.Exit.ExitCode);
        Assert.Contains("unknown tool no-such-tool", result.StderrText, StringComparison.Ordinal);
    }

    public void Dispose() => _tree.Dispose();
}
