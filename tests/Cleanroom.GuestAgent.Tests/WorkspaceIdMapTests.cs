using Cleanroom.GuestAgent.Exec;
using Cleanroom.GuestAgent.Init;
using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Processes;
using Cleanroom.GuestAgent.Tools;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>
/// The workspace's layers for real (needs root, as the guest agent has): an ext4 image of root-owned files on a loop
/// device, mounted idmapped to a non-root owner, with the overlay on top. Everything is mounted under a temporary
/// directory and taken down again, loop device included.
/// </summary>
public sealed class WorkspaceIdMapTests : IDisposable
{
    private const uint Owner = 1000;
    private readonly string _base;
    private readonly WorkspaceMount.Layout _layout;
    private readonly string _workspace;
    private string? _loop;

    public WorkspaceIdMapTests()
    {
        _base = Directory.CreateTempSubdirectory("cr-idmap-").FullName;

        // The owner's processes must be able to reach the workspace through the test's directories.
        Assert.Equal(0, LibC.ChMod(_base, 0x1ED));
        _layout = new WorkspaceMount.Layout(Path.Combine(_base, "lower"), Path.Combine(_base, "changes"));
        _workspace = Path.Combine(_base, "workspace");
    }

    [Fact]
    public void An_owner_sees_the_image_as_their_own_and_can_change_and_add_files()
    {
        var device = MakeImage();

        Assert.True(WorkspaceMount.MountLayers(device, _workspace, new UserIdentity(Owner, Owner, "/"), _layout, ChildReaper.Shared));

        foreach (var name in new[] { "", "a.txt", "sub", "sub/b.txt" })
        {
            var status = FileStatus.TryGet(Path.Combine(_workspace, name), out _)!.Value;
            Assert.Equal((Owner, Owner), (status.Uid, status.Gid));
        }

        // On disk nothing changed: the mapping is the mount's. The lower layer is still read-only.
        Assert.Throws<IOException>(() => File.WriteAllText(Path.Combine(_layout.Lower, "x"), "x"));

        var result = RunAsOwner("echo more >> a.txt && echo new > c.txt && echo changed > sub/b.txt && mkdir sub/d && touch sub/d/e");
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal("one\nmore\n", File.ReadAllText(Path.Combine(_workspace, "a.txt")));

        // Copy-up keeps the owner; new files are the owner's.
        var upper = Path.Combine(_layout.Changes, "upper");
        foreach (var name in new[] { "", "a.txt", "c.txt", "sub", "sub/b.txt", "sub/d", "sub/d/e" })
        {
            var status = FileStatus.TryGet(Path.Combine(upper, name), out _)!.Value;
            Assert.Equal((Owner, Owner), (status.Uid, status.Gid));
        }

        // The idmapped copy sits on the plain mount it was cloned from.
        Assert.Equal(2, MountPoints().Count(p => p == _layout.Lower));
    }

    [Fact]
    public void Without_an_owner_or_for_root_the_workspace_stays_roots()
    {
        var device = MakeImage();

        Assert.False(WorkspaceMount.MountLayers(device, _workspace, UserIdentity.Root, _layout, ChildReaper.Shared));

        var status = FileStatus.TryGet(Path.Combine(_workspace, "a.txt"), out _)!.Value;
        Assert.Equal((0u, 0u), (status.Uid, status.Gid));
        Assert.Single(MountPoints(), p => p == _layout.Lower);
        Assert.NotEqual(0, RunAsOwner("echo more >> a.txt").ExitCode);
    }

    public void Dispose()
    {
        foreach (var mount in new[] { _workspace, _layout.Lower, _layout.Lower })
        {
            if (MountPoints().Contains(mount))
            {
                Assert.Equal(0, LibC.Umount2(mount, LibC.MNT_DETACH));
            }
        }

        if (_loop is not null)
        {
            Run("losetup", "-d", _loop);
        }

        Directory.Delete(_base, recursive: true);
    }

    private static List<string> MountPoints() =>
        [.. File.ReadAllLines("/proc/self/mountinfo").Select(line => line.Split(' ')[4])];

    private static (int ExitCode, string Output) Run(string program, params string[] args) =>
        SpawnedCommand.Run(File.Exists("/usr/sbin/" + program) ? "/usr/sbin/" + program : "/sbin/" + program, [program, .. args]);

    /// <summary>An ext4 image of root-owned files, attached to a loop device.</summary>
    private string MakeImage()
    {
        var source = Directory.CreateDirectory(Path.Combine(_base, "source")).FullName;
        Directory.CreateDirectory(Path.Combine(source, "sub"));
        File.WriteAllText(Path.Combine(source, "a.txt"), "one\n");
        File.WriteAllText(Path.Combine(source, "sub", "b.txt"), "two\n");
        var image = Path.Combine(_base, "workspace.ext4");
        var mkfs = Run("mkfs.ext4", "-q", "-F", "-d", source, image, "16M");
        Assert.True(mkfs.ExitCode == 0, mkfs.Output);
        var losetup = Run("losetup", "--find", "--show", image);
        Assert.True(losetup.ExitCode == 0, losetup.Output);
        _loop = losetup.Output.Trim();
        return _loop;
    }

    /// <summary>A shell as the owner (through the agent's own exec-as mode), in the workspace.</summary>
    private (int ExitCode, string Output) RunAsOwner(string script) =>
        SpawnedCommand.Run(AgentHarness.AgentExecutable, ["cleanroom-guest-agent", ExecAsCommand.Flag, $"{Owner}", $"{Owner}", "/bin/sh", "--", "sh", "-c", script], _workspace);
}
