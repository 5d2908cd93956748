using System.Formats.Tar;
using Cleanroom.GuestAgent.Tools;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>archive → extract on real directories keeps what a copy must keep.</summary>
public sealed class ArchiveExtractTests : IDisposable
{
    private readonly TempTree _tree = new();

    [Fact]
    public void Round_trip_keeps_modes_mtimes_symlinks_hard_links_and_empty_directories()
    {
        var source = _tree.Mkdir("source");
        _tree.Write("source/src/a.c", "int main;");
        _tree.Write("source/src/with space.txt", "spaces");
        _tree.Mkdir("source/src/empty");
        File.CreateSymbolicLink(_tree.Path("source/src/link"), "../outside/target");
        FileOps.ChangeMode(_tree.Path("source/src/a.c"), 0xDED); // 4755
        FileOps.ChangeMode(_tree.Path("source/src/empty"), 0x1C0); // 0700
        Link(_tree.Path("source/src/a.c"), _tree.Path("source/src/hard"));
        var old = new DateTimeOffset(2020, 1, 2, 3, 4, 5, 678, TimeSpan.Zero).AddTicks(9);
        FileOps.SetModificationTime(_tree.Path("source/src/with space.txt"), old);
        FileOps.SetModificationTime(_tree.Path("source/src/link"), old);
        FileOps.SetModificationTime(_tree.Path("source/src/empty"), old);

        var archive = ToolRunner.Run("archive", "--base", source, "src");
        Assert.Equal((0, ""), (archive.ExitCode, archive.Stderr));
        var names = ToolRunner.Entries(archive.Stdout).Select(e => (e.Name, e.Type)).ToList();
        Assert.Equal(
            [("src", TarEntryType.Directory), ("src/a.c", TarEntryType.RegularFile), ("src/empty", TarEntryType.Directory),
             ("src/hard", TarEntryType.HardLink), ("src/link", TarEntryType.SymbolicLink), ("src/with space.txt", TarEntryType.RegularFile)],
            names);

        var target = _tree.Path("target/deeper");
        var extract = ToolRunner.Run(archive.Stdout, "extract", target);
        Assert.Equal((0, "", ""), (extract.ExitCode, extract.StdoutText, extract.Stderr));

        foreach (var name in new[] { "src", "src/a.c", "src/empty", "src/hard", "src/link", "src/with space.txt" })
        {
            var before = FileStatus.Get(_tree.Path("source/" + name));
            var after = FileStatus.Get(Path.Combine(target, name));
            Assert.Equal((name, before.Type, before.Mode, before.ModificationTime), (name, after.Type, after.Mode, after.ModificationTime));
        }

        Assert.Equal(old, FileStatus.Get(Path.Combine(target, "src/with space.txt")).ModificationTime);
        Assert.Equal("int main;", File.ReadAllText(Path.Combine(target, "src/a.c")));
        Assert.Equal("../outside/target", FileOps.ReadLink(Path.Combine(target, "src/link")));
        Assert.Equal(FileStatus.Get(Path.Combine(target, "src/a.c")).Inode, FileStatus.Get(Path.Combine(target, "src/hard")).Inode);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(target, "src/empty")));
    }

    [Fact]
    public void Names_are_relative_to_the_base_and_excludes_apply_by_name_or_by_path()
    {
        _tree.Write("ws/.git/HEAD", "ref");
        _tree.Write("ws/src/.git/HEAD", "sub");
        _tree.Write("ws/src/keep.c", "k");
        _tree.Write("ws/build/out.o", "o");

        var byName = ToolRunner.Run("archive", "--base", _tree.Path("ws"), "--exclude", ".git", _tree.Path("ws"));
        Assert.Equal(["build", "build/out.o", "src", "src/keep.c"], ToolRunner.Entries(byName.Stdout).Select(e => e.Name));

        var byPath = ToolRunner.Run("archive", "--base", _tree.Path("ws"), "--exclude", ".git", "--exclude", "build/out.o", "--", _tree.Path("ws/build"), _tree.Path("ws/src"));
        Assert.Equal(["build", "src", "src/keep.c"], ToolRunner.Entries(byPath.Stdout).Select(e => e.Name));

        var absolute = ToolRunner.Run("archive", _tree.Path("ws/src/keep.c"));
        Assert.Equal(_tree.Path("ws/src/keep.c").TrimStart('/'), Assert.Single(ToolRunner.Entries(absolute.Stdout)).Name);

        var relativeToBase = ToolRunner.Run("archive", "--base", _tree.Path("ws/src"), "keep.c");
        Assert.Equal("keep.c", Assert.Single(ToolRunner.Entries(relativeToBase.Stdout)).Name);
    }

    [Fact]
    public void Missing_paths_and_paths_outside_the_base_fail_before_anything_is_written()
    {
        _tree.Write("ws/a", "a");

        var missing = ToolRunner.Run("archive", "--base", _tree.Root, _tree.Path("ws/a"), _tree.Path("ws/nope"));
        Assert.Equal((1, 0), (missing.ExitCode, missing.Stdout.Length));
        Assert.StartsWith("no such file or directory: ", missing.Stderr, StringComparison.Ordinal);

        var outside = ToolRunner.Run("archive", "--base", _tree.Path("ws"), _tree.Root);
        Assert.Equal((2, 0), (outside.ExitCode, outside.Stdout.Length));
        Assert.Contains("not under the base", outside.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Special_files_are_skipped_with_a_warning()
    {
        _tree.Write("ws/a", "a");
        RawFiles.MkFifo(_tree.Path("ws/pipe"));

        var result = ToolRunner.Run("archive", "--base", _tree.Path("ws"), _tree.Path("ws"));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["a"], ToolRunner.Entries(result.Stdout).Select(e => e.Name));
        Assert.Contains("skipping", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("FIFO", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Existing_files_are_replaced_and_directories_merged()
    {
        _tree.Write("dest/dir/old", "old");
        _tree.Write("dest/file", "previous");
        _tree.Mkdir("dest/becomes-file/inner");
        File.CreateSymbolicLink(_tree.Path("dest/becomes-dir"), "/etc");

        var tar = ToolRunner.Tar(ToolRunner.Directory("dir"), ToolRunner.File("dir/new", "n"), ToolRunner.File("file", "next"),
            ToolRunner.File("becomes-file", "f"), ToolRunner.Directory("becomes-dir"), ToolRunner.File("becomes-dir/x", "x"));
        var result = ToolRunner.Run(tar, "extract", _tree.Path("dest"));

        Assert.Equal((0, ""), (result.ExitCode, result.Stderr));
        Assert.Equal(["new", "old"], Directory.GetFiles(_tree.Path("dest/dir")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("next", File.ReadAllText(_tree.Path("dest/file")));
        Assert.Equal("f", File.ReadAllText(_tree.Path("dest/becomes-file")));
        Assert.Equal(FileType.Directory, FileStatus.Get(_tree.Path("dest/becomes-dir")).Type);
        Assert.True(File.Exists(_tree.Path("dest/becomes-dir/x")));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(_tree.Path("dest")), p => p.Contains(".cleanroom-extract-", StringComparison.Ordinal));
    }

    public void Dispose() => _tree.Dispose();

    private static void Link(string existing, string path) => FileOps.HardLink(existing, path);
}
