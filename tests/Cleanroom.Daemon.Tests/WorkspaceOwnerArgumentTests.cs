using Cleanroom.Daemon.Files;
using Cleanroom.Daemon.Workspaces;

namespace Cleanroom.Daemon.Tests;

/// <summary>When the daemon asks the agent to give the workspace to the image's default user, and how copy-in follows.</summary>
public sealed class WorkspaceOwnerArgumentTests
{
    [Theory]
    [InlineData("node")]
    [InlineData("1000")]
    [InlineData("1000:1000")]
    [InlineData("app.user-1_x:staff")]
    public void A_plain_non_root_user_is_passed_as_written_for_the_agent_to_resolve(string user)
    {
        Assert.Equal("cleanroom.workspace.owner=" + user, WorkspaceOwnerArgument.For(user, out var refused));
        Assert.False(refused);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("root")]
    [InlineData("0")]
    [InlineData("000")]
    [InlineData("0:1000")]
    [InlineData("root:staff")]
    [InlineData(":1000")]
    public void No_user_or_root_needs_no_owner(string? user)
    {
        Assert.Null(WorkspaceOwnerArgument.For(user, out var refused));
        Assert.False(refused);
    }

    [Theory]
    [InlineData("node cleanroom.root=/dev/vdb")]
    [InlineData("node\"")]
    [InlineData("a:b:c")]
    [InlineData("node:")]
    [InlineData("n\u00f6de")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    public void Anything_else_is_not_put_on_the_kernel_command_line(string user)
    {
        Assert.Null(WorkspaceOwnerArgument.For(user, out var refused));
        Assert.True(refused);
    }

    [Fact]
    public void Only_workspace_copy_in_asks_extract_for_the_owner_of_the_root()
    {
        Assert.Equal(["extract", "--whiteouts", "--owner-of-root", "--", "/workspace"], SandboxFiles.ExtractArgv("/workspace", whiteouts: true, ownerOfRoot: true));
        Assert.Equal(["extract", "--", "/tmp"], SandboxFiles.ExtractArgv("/tmp", whiteouts: false, ownerOfRoot: false));
    }
}
