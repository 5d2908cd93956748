using Cleanroom.GuestAgent.Init;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>Where the agent mounts the workspace (only a plain path outside system directories) and how it finds the disk.</summary>
public sealed class WorkspaceMountTests : IDisposable
{
    private readonly DirectoryInfo _sys = Directory.CreateTempSubdirectory("cr-sysblock-");

    [Fact]
    public void The_kernel_argument_names_the_workspace_path()
    {
        Assert.Equal("/workspace", BootOptions.Parse("console=ttyS0 cleanroom.workspace=/workspace").WorkspacePath);
        Assert.Equal("/src/my repo", BootOptions.Parse("cleanroom.workspace=\"/src/my repo\"").WorkspacePath);
        Assert.Null(BootOptions.Parse("console=ttyS0").WorkspacePath);
    }

    [Theory]
    [InlineData("workspace")]
    [InlineData("/")]
    [InlineData("/etc")]
    [InlineData("/usr/src/app")]
    [InlineData("/proc/x")]
    [InlineData("/work/../etc")]
    [InlineData("/work/./x")]
    [InlineData("/work//x")]
    [InlineData("/work/")]
    [InlineData("/work\u0001")]
    public void Paths_that_are_not_plain_or_are_system_directories_are_refused(string path)
    {
        Assert.Null(BootOptions.ValidWorkspacePath(path));
    }

    [Theory]
    [InlineData("node", "node")]
    [InlineData("1000", "1000")]
    [InlineData("1000:1000", "1000:1000")]
    [InlineData("app.user-1_x:staff", "app.user-1_x:staff")]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz012345")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456", null)]
    [InlineData("", null)]
    [InlineData(":1000", null)]
    [InlineData("1000:", null)]
    [InlineData("a:b:c", null)]
    [InlineData("node,uid=0", null)]
    [InlineData("../root", null)]
    [InlineData("n\u00f6de", null)]
    [InlineData("node\u0001", null)]
    public void The_owner_is_a_user_and_optional_group_of_plain_characters(string value, string? expected)
    {
        Assert.Equal(expected, BootOptions.Parse("cleanroom.workspace=/workspace cleanroom.workspace.owner=" + value).WorkspaceOwner);
    }

    [Fact]
    public void Without_the_argument_there_is_no_owner()
    {
        Assert.Null(BootOptions.Parse("cleanroom.workspace=/workspace").WorkspaceOwner);
    }

    [Fact]
    public void The_owner_is_resolved_against_the_guests_user_database()
    {
        var passwd = Path.Combine(_sys.FullName, "passwd");
        var group = Path.Combine(_sys.FullName, "group");
        File.WriteAllText(passwd, "root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n");
        File.WriteAllText(group, "root:x:0:\nnode:x:1000:\nstaff:x:50:\n");

        Assert.Equal((1000u, 1000u), Ids(WorkspaceOwner.Resolve("node", passwd, group, out _)));
        Assert.Equal((1000u, 50u), Ids(WorkspaceOwner.Resolve("node:staff", passwd, group, out _)));
        Assert.Equal((1234u, 0u), Ids(WorkspaceOwner.Resolve("1234", passwd, group, out _)));
        Assert.Equal((1234u, 99u), Ids(WorkspaceOwner.Resolve("1234:99", passwd, group, out _)));
        Assert.Null(WorkspaceOwner.Resolve("nobody-here", passwd, group, out var error));
        Assert.Contains("unknown user", error, StringComparison.Ordinal);
        Assert.Null(WorkspaceOwner.Resolve("node", Path.Combine(_sys.FullName, "missing"), group, out _));
    }

    [Fact]
    public void The_disk_is_found_by_its_serial_whatever_its_name()
    {
        Block("vda", "cr-root");
        Block("vdb", "something-else");
        Block("vdc", WorkspaceMount.DiskSerial + "\n");
        Directory.CreateDirectory(Path.Combine(_sys.FullName, "loop0")); // no serial file at all

        Assert.Equal("/dev/vdc", WorkspaceMount.FindBySerial(_sys.FullName, WorkspaceMount.DiskSerial));
        Assert.Null(WorkspaceMount.FindBySerial(_sys.FullName, "absent"));
        Assert.Null(WorkspaceMount.FindBySerial(Path.Combine(_sys.FullName, "missing"), WorkspaceMount.DiskSerial));
    }

    public void Dispose() => _sys.Delete(recursive: true);

    private static (uint Uid, uint Gid) Ids(Cleanroom.GuestAgent.Exec.UserIdentity? identity) => (identity!.Uid, identity.Gid);

    private void Block(string name, string serial)
    {
        var directory = Directory.CreateDirectory(Path.Combine(_sys.FullName, name));
        File.WriteAllText(Path.Combine(directory.FullName, "serial"), serial);
    }
}
