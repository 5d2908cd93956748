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

    private void Block(string name, string serial)
    {
        var directory = Directory.CreateDirectory(Path.Combine(_sys.FullName, name));
        File.WriteAllText(Path.Combine(directory.FullName, "serial"), serial);
    }
}
