using System.Formats.Tar;
using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Tools;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>extract --owner-of-root: what the archive creates belongs to the target directory's owner (needs root).</summary>
public sealed class ExtractOwnerTests : IDisposable
{
    private const uint Owner = 1000;
    private const uint Group = 1001;
    private readonly TempTree _tree = new();

    [Fact]
    public void New_entries_get_the_owner_of_the_target_directory_and_what_was_there_keeps_its_own()
    {
        _tree.Write("dest/replaced.txt", "old");
        _tree.Write("dest/kept/untouched", "x");
        Assert.Equal(0, LibC.LChown(_tree.Path("dest"), Owner, Group));

        var setuid = ToolRunner.File("tool", "#!/bin/sh");
        setuid.Mode = (UnixFileMode)0x9ED; // 04755: chown must come before chmod, which would otherwise lose it
        var tar = ToolRunner.Tar(
            ToolRunner.File("replaced.txt", "new"),
            ToolRunner.Directory("dir"),
            ToolRunner.File("dir/a.txt", "a"),
            ToolRunner.File("deep/er/b.txt", "b"),
            ToolRunner.File("kept/new", "n"),
            ToolRunner.Symlink("link", "dir/a.txt"),
            new PaxTarEntry(TarEntryType.HardLink, "hard") { LinkName = "dir/a.txt" },
            setuid);
        var result = ToolRunner.Run(tar, "extract", "--whiteouts", "--owner-of-root", "--", _tree.Path("dest"));

        Assert.Equal((0, ""), (result.ExitCode, result.Stderr));
        foreach (var name in new[] { "replaced.txt", "dir", "dir/a.txt", "deep", "deep/er", "deep/er/b.txt", "kept/new", "link", "hard", "tool" })
        {
            Assert.Equal((Owner, Group), Ids(name));
        }

        Assert.Equal((0u, 0u), Ids("kept"));
        Assert.Equal((0u, 0u), Ids("kept/untouched"));
        Assert.Equal(0x9EDu, FileStatus.TryGet(_tree.Path("dest/tool"), out _)!.Value.Permissions);
    }

    [Fact]
    public void Without_the_option_entries_belong_to_the_user_the_tool_runs_as()
    {
        Directory.CreateDirectory(_tree.Path("dest"));
        Assert.Equal(0, LibC.LChown(_tree.Path("dest"), Owner, Group));

        var result = ToolRunner.Run(ToolRunner.Tar(ToolRunner.File("a.txt", "a")), "extract", "--", _tree.Path("dest"));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal((0u, 0u), Ids("a.txt"));
    }

    [Fact]
    public void A_new_target_directory_is_roots_and_so_is_what_lands_in_it()
    {
        var result = ToolRunner.Run(ToolRunner.Tar(ToolRunner.File("a.txt", "a")), "extract", "--owner-of-root", _tree.Path("dest/new"));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal((0u, 0u), Ids("new/a.txt"));
    }

    public void Dispose() => _tree.Dispose();

    private (uint Uid, uint Gid) Ids(string name)
    {
        var status = FileStatus.TryGet(_tree.Path("dest/" + name), out _)!.Value;
        return (status.Uid, status.Gid);
    }
}
