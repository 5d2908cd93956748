using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>The exact arguments a tool gets from /proc/self/cmdline.</summary>
public sealed class ExactArgumentsTests
{
    [Fact]
    public void The_command_line_splits_into_exact_names()
    {
        Assert.Equal(["agent", "b\uDCFF", ""], ExactArguments.Split([.. "agent\0b"u8, 0xFF, 0, 0]));
        Assert.Equal(["a", "b"], ExactArguments.Split("a\0b"u8));
    }

    [Fact]
    public void Exact_arguments_replace_the_lossy_ones_only_when_they_match()
    {
        string[] exact = ["cleanroom-guest-agent", "--tool", "stat", "/x\uDCFF"];

        Assert.Equal(["--tool", "stat", "/x\uDCFF"], ExactArguments.Match(exact, ["--tool", "stat", "/x\uFFFD"])!);
        Assert.Null(ExactArguments.Match(exact, ["--tool", "stat", "/y\uFFFD"]));
        Assert.Null(ExactArguments.Match(["one"], ["one", "two"]));
        Assert.Equal(["not-on-this-command-line"], ExactArguments.Of(["not-on-this-command-line"]));
    }
}
