namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>extract --whiteouts applies OCI layer markers to what was there before.</summary>
public sealed class WhiteoutTests : IDisposable
{
    private readonly TempTree _tree = new();

    [Fact]
    public void Whiteouts_delete_files_and_trees_and_opaque_directories_lose_their_old_contents()
    {
        _tree.Write("dest/gone.txt", "x");
        _tree.Write("dest/tree/deep/file", "x");
        _tree.Write("dest/opaque/old1", "x");
        _tree.Write("dest/opaque/sub/old2", "x");
        _tree.Write("dest/kept", "x");

        var tar = ToolRunner.Tar(
            ToolRunner.File(".wh.gone.txt"),
            ToolRunner.File(".wh.tree"),
            ToolRunner.File("missing/.wh.nothing"),
            ToolRunner.Directory("opaque"),
            ToolRunner.File("opaque/.wh..wh..opq"),
            ToolRunner.File("opaque/new", "n"),
            ToolRunner.File("opaque/sub/new2", "n"));
        var result = ToolRunner.Run(tar, "extract", "--whiteouts", _tree.Path("dest"));

        Assert.Equal((0, ""), (result.ExitCode, result.Stderr));
        Assert.Equal(["kept", "opaque", "opaque/new", "opaque/sub", "opaque/sub/new2"], Listing(_tree.Path("dest")));
    }

    [Fact]
    public void An_opaque_marker_after_the_contents_keeps_what_this_archive_wrote()
    {
        _tree.Write("dest/dir/old", "x");
        _tree.Write("dest/dir/sub/old", "x");

        var tar = ToolRunner.Tar(ToolRunner.File("dir/sub/new", "n"), ToolRunner.File("dir/.wh..wh..opq"));
        var result = ToolRunner.Run(tar, "extract", "--whiteouts", _tree.Path("dest"));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["dir", "dir/sub", "dir/sub/new"], Listing(_tree.Path("dest")));
    }

    [Fact]
    public void Without_the_option_whiteout_names_are_ordinary_files()
    {
        _tree.Write("dest/gone.txt", "x");

        var result = ToolRunner.Run(ToolRunner.Tar(ToolRunner.File(".wh.gone.txt")), "extract", _tree.Path("dest"));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal([".wh.gone.txt", "gone.txt"], Listing(_tree.Path("dest")));
    }

    public void Dispose() => _tree.Dispose();

    private static string[] Listing(string root) =>
        [.. Directory.GetFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(p => Path.GetRelativePath(root, p))
            .Order(StringComparer.Ordinal)];
}
