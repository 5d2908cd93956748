using Cleanroom.Cli.Commands;
using Cleanroom.Cli.Files;

namespace Cleanroom.Cli.Tests;

/// <summary>How <c>cleanroom cp</c> reads its two arguments; all of these fail before any daemon is asked.</summary>
public sealed class CpParsingTests
{
    [Theory]
    [InlineData("s1:/a/b", "s1", "/a/b")]
    [InlineData("s1:rel", "s1", "rel")]
    [InlineData("s1:", "s1", "")]
    [InlineData("./a:b", null, "./a:b")]
    [InlineData("/abs/a:b", null, "/abs/a:b")]
    [InlineData("dir/a:b", null, "dir/a:b")]
    [InlineData(":x", null, ":x")]
    [InlineData("-", null, "-")]
    [InlineData("plain", null, "plain")]
    public void An_argument_is_remote_only_as_ID_colon_PATH(string argument, string? id, string path)
    {
        var location = CpLocation.Parse(argument);
        Assert.Equal((id, path), (location.SandboxId, location.Path));
    }

    [Theory]
    [InlineData("/a//b/./c/", "/a/b/c", false, true)]
    [InlineData("/a/b/.", "/a/b", true, false)]
    [InlineData("/.", "/", true, false)]
    [InlineData("/", "/", false, false)]
    public void Guest_paths_are_normalised_and_keep_docker_suffixes(string raw, string path, bool contents, bool trailingSlash)
    {
        var parsed = GuestPath.Parse(raw, out var error);
        Assert.Null(error);
        Assert.Equal(new GuestPath(path, contents, trailingSlash), parsed);
    }

    [Fact]
    public void Parent_and_name_of_guest_paths()
    {
        Assert.Equal(("/a", "b"), (GuestPath.Parse("/a/b", out _)!.Parent, GuestPath.Parse("/a/b", out _)!.Name));
        Assert.Equal(("/", "a"), (GuestPath.Parse("/a", out _)!.Parent, GuestPath.Parse("/a", out _)!.Name));
    }

    [Theory]
    [InlineData("a", "b", "one of SRC and DST must be SANDBOX_ID:PATH")]
    [InlineData("-", "./x", "one of SRC and DST must be SANDBOX_ID:PATH")]
    [InlineData("s1:/a", "s2:/b", "copying between sandboxes is not supported")]
    [InlineData("s1:rel/x", "out", "'s1:rel/x': the path must be an absolute path in the sandbox")]
    [InlineData("in", "s1:", "'s1:': the path must be an absolute path in the sandbox")]
    [InlineData("in", "s1:/a/../b", "'..'")]
    public async Task Bad_pairs_are_usage_errors(string source, string destination, string message)
    {
        // No daemon exists at this endpoint: a usage error must come before any call.
        using var cli = new CliHarness("unix:///nonexistent/cleanroom.sock");
        Assert.Equal(ExitCodes.Usage, await cli.RunAsync("cp", source, destination));
        Assert.Contains(message, cli.Err, StringComparison.Ordinal);
        Assert.Contains("run 'cleanroom cp --help' for usage", cli.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void The_check_accepts_one_remote_absolute_side()
    {
        Assert.Null(CpCommand.Check(CpLocation.Parse("s1:/a"), CpLocation.Parse("-")));
        Assert.Null(CpCommand.Check(CpLocation.Parse("./x"), CpLocation.Parse("s1:/")));
    }
}
