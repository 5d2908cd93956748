using System.Diagnostics;
using System.Security.Cryptography;
using Cleanroom.Guest.Wire.Messages;
using Xunit.Abstractions;

namespace Cleanroom.GuestAgent.Tests;

public class ExecStreamingTests
{
    private readonly ITestOutputHelper _output;

    public ExecStreamingTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Ten_MiB_of_output_arrives_intact()
    {
        var data = RandomNumberGenerator.GetBytes(10 * 1024 * 1024);
        var file = Path.GetTempFileName();
        await File.WriteAllBytesAsync(file, data);
        try
        {
            await using var agent = await AgentHarness.StartAsync();
            var clock = Stopwatch.StartNew();
            var result = await agent.RunAsync(new ExecRequest { Argv = ["cat", file] });
            _output.WriteLine($"10 MiB through the agent in {clock.ElapsedMilliseconds} ms");
            Assert.Equal(0, result.Exit.ExitCode);
            Assert.Equal(data.Length, result.Stdout.Length);
            Assert.Equal(SHA256.HashData(data), SHA256.HashData(result.Stdout));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Each_output_pipe_of_a_command_holds_a_mebibyte()
    {
        // A command writing faster than the host takes its output runs ahead by the pipe's size, and the agent reads
        // it in pieces of up to a frame: a 1 MiB pipe, not the kernel's default 64 KiB.
        await using var agent = await AgentHarness.StartAsync();
        const string Script = "import fcntl, sys; print(fcntl.fcntl(1, 1032), fcntl.fcntl(2, 1032))"; // F_GETPIPE_SZ
        var result = await agent.RunAsync(new ExecRequest { Argv = ["python3", "-c", Script] });
        Assert.Equal(0, result.Exit.ExitCode);
        Assert.Equal("1048576 1048576\n", System.Text.Encoding.ASCII.GetString(result.Stdout));
    }

    [Fact]
    public async Task Stdin_is_piped_through_and_closed()
    {
        var data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(
            new ExecRequest { Argv = ["cat"] },
            async process =>
            {
                for (var offset = 0; offset < data.Length; offset += 100_000)
                {
                    await process.WriteStdinAsync(data.AsMemory(offset, Math.Min(100_000, data.Length - offset)), CancellationToken.None);
                }
            });
        Assert.Equal(0, result.Exit.ExitCode);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(result.Stdout));
    }

    [Fact]
    public async Task Without_input_a_command_reading_stdin_sees_its_end()
    {
        // Stdin is closed with the request (as the daemon does for an exec without --stdin): cat must see end of
        // input, whether the agent closes the pipe before the command starts or its stdin pump does so later.
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(new ExecRequest { Argv = ["cat"] }, timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(new ExitMessage(0, 0, ""), result.Exit);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Stderr_still_arrives_after_the_command_closed_its_stdout()
    {
        // One pump reads both descriptors: stdout ending must not end the reading of stderr.
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(AgentHarness.Shell("echo out; exec >&-; sleep 0.2; echo late >&2; echo also >&2"));
        Assert.Equal(0, result.Exit.ExitCode);
        Assert.Equal("out\n", result.StdoutText);
        Assert.Equal("late\nalso\n", System.Text.Encoding.ASCII.GetString(result.Stderr));
    }

    [Fact]
    public async Task Input_after_the_child_closed_stdin_is_dropped_without_blocking_the_host()
    {
        // The child closes its stdin but keeps running. 2 MiB is far beyond the flow-control window: unless the agent
        // keeps consuming (and dropping) stdin once the pipe is broken, these writes would block until the process
        // exits and then fail.
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(
            AgentHarness.Shell("head -c 5; exec <&-; sleep 2"),
            async process =>
            {
                var chunk = new byte[64 * 1024];
                for (var i = 0; i < 32; i++)
                {
                    await process.WriteStdinAsync(chunk, CancellationToken.None);
                }
            },
            TimeSpan.FromSeconds(30));
        Assert.Equal(5, result.Stdout.Length);
    }

    [Fact]
    public async Task Output_and_exit_of_an_empty_command_are_clean()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(new ExecRequest { Argv = ["true"] });
        Assert.Empty(result.Stdout);
        Assert.Empty(result.Stderr);
        Assert.Equal(new ExitMessage(0, 0, ""), result.Exit);
    }
}
