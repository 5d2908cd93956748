using System.Text;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.GuestAgent.Tests;

public class ExecTtyTests
{
    [Fact]
    public async Task Tty_mode_gives_a_pseudo_terminal()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(new ExecRequest { Argv = ["tty"], Tty = true });
        Assert.Matches(@"^/dev/pts/\d+\r\n$", result.StdoutText);
        Assert.Equal(0, result.Exit.ExitCode);
    }

    [Fact]
    public async Task Requested_size_and_term_are_applied()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(new ExecRequest { Argv = ["sh", "-c", "stty size; echo $TERM"], Tty = true, Cols = 132, Rows = 43 });
        Assert.Equal("43 132\r\nxterm-256color\r\n", result.StdoutText);
    }

    [Fact]
    public async Task Resize_reaches_the_terminal()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(
            new ExecRequest { Argv = ["sh", "-c", "read line; stty size"], Tty = true, Cols = 80, Rows = 24 },
            async process =>
            {
                await process.Started;
                await process.ResizeAsync(100, 30, CancellationToken.None);
                await Task.Delay(100);
                await process.WriteStdinAsync(Encoding.ASCII.GetBytes("go\n"), CancellationToken.None);
            });
        Assert.EndsWith("30 100\r\n", result.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_terminal_is_the_controlling_terminal()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(new ExecRequest { Argv = ["sh", "-c", "echo via-dev-tty > /dev/tty"], Tty = true });
        Assert.Equal("via-dev-tty\r\n", result.StdoutText);
        Assert.Equal(0, result.Exit.ExitCode);
    }

    [Fact]
    public async Task End_of_stdin_ends_input_on_a_terminal()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(
            new ExecRequest { Argv = ["sh", "-c", "stty -echo; cat; echo cat-done"], Tty = true },
            async process =>
            {
                await process.Started;
                await Task.Delay(200); // let stty -echo take effect before typing
                await process.WriteStdinAsync(Encoding.ASCII.GetBytes("line one\npartial"), CancellationToken.None);
            });
        Assert.Equal("line one\r\npartialcat-done\r\n", result.StdoutText);
        Assert.Equal(0, result.Exit.ExitCode);
    }

    [Fact]
    public async Task Ctrl_c_on_the_terminal_interrupts()
    {
        await using var agent = await AgentHarness.StartAsync();
        var result = await agent.RunAsync(
            new ExecRequest { Argv = ["sleep", "30"], Tty = true },
            async process =>
            {
                await process.Started;
                await Task.Delay(100);
                await process.WriteStdinAsync(new byte[] { 0x03 }, CancellationToken.None);
            });
        Assert.Equal(130, result.Exit.ShellExitCode);
    }
}
