using System.Formats.Tar;
using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Tools;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>workspace-changes on a real overlayfs mount (needs root, as the guest agent has).</summary>
public sealed class WorkspaceChangesTests : IDisposable
{
    private readonly TempTree _tree = new();

    [Fact]
    public void The_upper_directory_becomes_an_oci_layer_that_turns_the_lower_into_the_merged_view()
    {
        _tree.Write("lower/README", "readme");
        _tree.Write("lower/del.txt", "delete me");
        _tree.Write("lower/src/a.c", "old a");
        _tree.Write("lower/src/b.c", "b");
        _tree.Write("lower/docs/x.md", "x");
        _tree.Write("lower/docs/sub/y.md", "y");
        _tree.Write("lower/replaced/inner", "i");
        _tree.Write("lower/.git/HEAD", "ref: refs/heads/main");
        _tree.Mkdir("upper");
        _tree.Mkdir("work");
        var merged = _tree.Mkdir("merged");
        var lower = _tree.Path("lower");
        var upper = _tree.Path("upper");
        Assert.True(
            LibC.Mount("overlay", merged, "overlay", 0, $"lowerdir={lower},upperdir={upper},workdir={_tree.Path("work")}") == 0,
            $"mount overlay: {Errno.DescribeLast()}");
        ToolResult changes;
        byte[] mergedView;
        try
        {
            File.Delete(Path.Combine(merged, "del.txt"));
            File.Delete(Path.Combine(merged, "src/b.c"));
            File.WriteAllText(Path.Combine(merged, "src/a.c"), "new a");
            Directory.Delete(Path.Combine(merged, "docs"), recursive: true);
            Directory.CreateDirectory(Path.Combine(merged, "docs"));
            File.WriteAllText(Path.Combine(merged, "docs/new.md"), "n");
            Directory.Delete(Path.Combine(merged, "replaced"), recursive: true);
            File.WriteAllText(Path.Combine(merged, "replaced"), "now a file");
            Directory.CreateDirectory(Path.Combine(merged, "added/deeper"));
            File.WriteAllText(Path.Combine(merged, "added/deeper/file"), "f");
            File.CreateSymbolicLink(Path.Combine(merged, "link"), "src/a.c");
            File.WriteAllText(Path.Combine(merged, ".git/HEAD"), "ref: refs/heads/other");
            File.WriteAllText(Path.Combine(merged, ".git/index"), "index");

            changes = ToolRunner.Run("workspace-changes", lower, upper);
            mergedView = ToolRunner.Run("archive", "--base", merged, "--exclude", ".git", merged).Stdout;
        }
        finally
        {
            Assert.Equal(0, LibC.Umount2(merged, 0));
        }

        Assert.Equal((0, ""), (changes.ExitCode, changes.Stderr));
        var entries = ToolRunner.Entries(changes.Stdout);
        Assert.Equal(
            [
                ("added", TarEntryType.Directory, ""),
                ("added/deeper", TarEntryType.Directory, ""),
                ("added/deeper/file", TarEntryType.RegularFile, "f"),
                (".wh.del.txt", TarEntryType.RegularFile, ""), // in the order of the name it hides
                ("docs", TarEntryType.Directory, ""),
                ("docs/.wh..wh..opq", TarEntryType.RegularFile, ""),
                ("docs/new.md", TarEntryType.RegularFile, "n"),
                ("link", TarEntryType.SymbolicLink, ""),
                ("replaced", TarEntryType.RegularFile, "now a file"),
                ("src", TarEntryType.Directory, ""),
                ("src/a.c", TarEntryType.RegularFile, "new a"),
                ("src/.wh.b.c", TarEntryType.RegularFile, ""),
            ],
            entries);

        // Applying the layer to a copy of the lower gives the merged view (less .git, which the host keeps its own of).
        var copy = _tree.Path("copy");
        Assert.Equal(0, ToolRunner.Run(ToolRunner.Run("archive", "--base", lower, "--exclude", ".git", lower).Stdout, "extract", copy).ExitCode);
        var applied = ToolRunner.Run(changes.Stdout, "extract", "--whiteouts", copy);
        Assert.Equal((0, ""), (applied.ExitCode, applied.Stderr));
        var result = ToolRunner.Run("archive", "--base", copy, copy).Stdout;
        Assert.Equal(ToolRunner.Entries(mergedView), ToolRunner.Entries(result));
    }

    [Fact]
    public void Arguments_must_be_two_directories()
    {
        Assert.Equal(2, ToolRunner.Run("workspace-changes", _tree.Root).ExitCode);
        var missing = ToolRunner.Run("workspace-changes", _tree.Root, _tree.Path("nope"));
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("no such file or directory: ", missing.Stderr, StringComparison.Ordinal);
        Assert.Equal(FileType.Directory, FileStatus.Get(_tree.Root).Type);
    }

    public void Dispose() => _tree.Dispose();
}
