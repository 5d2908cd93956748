using System.Formats.Tar;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>extract never writes outside its directory, whatever the names in the archive say.</summary>
public sealed class ExtractSafetyTests : IDisposable
{
    private readonly TempTree _tree = new();

    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("/abs")]
    public void Names_that_climb_out_or_are_absolute_are_refused(string name)
    {
        var result = ToolRunner.Run(ToolRunner.Tar(ToolRunner.File(name, "evil")), "extract", _tree.Path("dest"));

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"refusing entry {name}", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_tree.Path("x")));
        Assert.False(File.Exists("/abs"));
        Assert.Empty(Directory.GetFileSystemEntries(_tree.Path("dest")));
    }

    [Fact]
    public void A_path_through_a_symlinked_parent_is_refused()
    {
        _tree.Mkdir("outside");
        _tree.Mkdir("dest");
        File.CreateSymbolicLink(_tree.Path("dest/escape"), _tree.Path("outside"));

        var result = ToolRunner.Run(ToolRunner.Tar(ToolRunner.File("escape/x", "evil")), "extract", _tree.Path("dest"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("escape is a symlink", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_tree.Path("outside")));
    }

    [Fact]
    public void A_symlink_in_the_archive_cannot_be_used_as_a_parent_later_in_it()
    {
        _tree.Mkdir("outside");

        var tar = ToolRunner.Tar(ToolRunner.Symlink("escape", _tree.Path("outside")), ToolRunner.File("escape/x", "evil"));
        var result = ToolRunner.Run(tar, "extract", _tree.Path("dest"));

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(Directory.GetFileSystemEntries(_tree.Path("outside")));
    }

    [Fact]
    public void Hard_links_must_point_at_an_earlier_entry_of_the_archive()
    {
        _tree.Write("secret", "s");
        var link = new PaxTarEntry(TarEntryType.HardLink, "copy") { LinkName = "../secret" };

        var result = ToolRunner.Run(ToolRunner.Tar(link), "extract", _tree.Path("dest"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("refusing hard link", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_tree.Path("dest/copy")));
    }

    [Fact]
    public void A_truncated_archive_is_an_error_not_a_partial_success()
    {
        var tar = ToolRunner.Tar(ToolRunner.File("big", new string('x', 5000)));

        var result = ToolRunner.Run(tar[..2048], "extract", _tree.Path("dest"));

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("extract: ", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_tree.Path("dest/big")));
    }

    [Fact]
    public void Usage_errors_exit_2()
    {
        Assert.Equal(2, ToolRunner.Run("extract").ExitCode);
        Assert.Equal(2, ToolRunner.Run("extract", "--bogus", "x").ExitCode);
        Assert.Equal(2, ToolRunner.Run("extract", "a", "b").ExitCode);
    }

    public void Dispose() => _tree.Dispose();
}
