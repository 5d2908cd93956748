using System.Text.Json;
using Cleanroom.GuestAgent.Tools;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>The stat line the host parses, and remove.</summary>
public sealed class StatRemoveTests : IDisposable
{
    private readonly TempTree _tree = new();

    [Fact]
    public void Stat_describes_a_file_a_directory_and_a_symlink_itself()
    {
        var file = _tree.Write("f \"quoted\".txt", "12345");
        FileOps.ChangeMode(file, 0x1ED);
        File.SetLastWriteTimeUtc(file, new DateTime(2021, 5, 6, 7, 8, 9, 250, DateTimeKind.Utc));
        var directory = _tree.Mkdir("d");
        var link = _tree.Path("l");
        File.CreateSymbolicLink(link, "d/nowhere");

        using var fileJson = Stat(file);
        var root = fileJson.RootElement;
        Assert.Equal(file, root.GetProperty("path").GetString());
        Assert.Equal("file", root.GetProperty("type").GetString());
        Assert.Equal("0755", root.GetProperty("mode").GetString());
        Assert.Equal(5, root.GetProperty("size").GetInt64());
        Assert.Equal(new DateTimeOffset(2021, 5, 6, 7, 8, 9, 250, TimeSpan.Zero).ToUnixTimeMilliseconds(), root.GetProperty("mtime_unix_ms").GetInt64());
        Assert.Equal(0, root.GetProperty("uid").GetInt64());
        Assert.Equal(0, root.GetProperty("gid").GetInt64());
        Assert.False(root.TryGetProperty("link_target", out _));

        using var directoryJson = Stat(directory);
        Assert.Equal("directory", directoryJson.RootElement.GetProperty("type").GetString());

        using var linkJson = Stat(link);
        Assert.Equal("symlink", linkJson.RootElement.GetProperty("type").GetString());
        Assert.Equal("d/nowhere", linkJson.RootElement.GetProperty("link_target").GetString());
    }

    [Fact]
    public void Stat_of_a_missing_path_says_so_in_the_phrase_the_host_maps()
    {
        var result = ToolRunner.Run("stat", _tree.Path("missing"));

        Assert.Equal((1, 0), (result.ExitCode, result.Stdout.Length));
        Assert.Equal($"no such file or directory: {_tree.Path("missing")}\n", result.Stderr);
        Assert.Equal(2, ToolRunner.Run("stat").ExitCode);
    }

    [Fact]
    public void Remove_unlinks_removes_trees_with_r_and_ignores_missing_with_f()
    {
        var file = _tree.Write("file", "x");
        _tree.Write("tree/a/b", "x");
        _tree.Mkdir("empty");
        _tree.Write("target/keep", "x");
        File.CreateSymbolicLink(_tree.Path("link"), _tree.Path("target"));

        Assert.Equal(0, ToolRunner.Run("remove", file, _tree.Path("empty"), _tree.Path("link")).ExitCode);
        Assert.True(File.Exists(_tree.Path("target/keep"))); // the link went, not what it points at

        var notEmpty = ToolRunner.Run("remove", _tree.Path("tree"));
        Assert.Equal(1, notEmpty.ExitCode);
        Assert.Contains("rmdir", notEmpty.Stderr, StringComparison.Ordinal);

        Assert.Equal(0, ToolRunner.Run("remove", "-r", _tree.Path("tree")).ExitCode);
        Assert.Equal(["target"], Directory.GetFileSystemEntries(_tree.Root).Select(Path.GetFileName));

        var missing = ToolRunner.Run("remove", _tree.Path("nope"));
        Assert.Equal((1, $"no such file or directory: {_tree.Path("nope")}\n"), (missing.ExitCode, missing.Stderr));
        Assert.Equal(0, ToolRunner.Run("remove", "-rf", _tree.Path("nope")).ExitCode);
        Assert.Equal(1, ToolRunner.Run("remove", "-r", "/").ExitCode);
        Assert.Equal(2, ToolRunner.Run("remove", "-x", file).ExitCode);
    }

    public void Dispose() => _tree.Dispose();

    private static JsonDocument Stat(string path)
    {
        var result = ToolRunner.Run("stat", path);
        Assert.Equal((0, ""), (result.ExitCode, result.Stderr));
        Assert.EndsWith("\n", result.StdoutText, StringComparison.Ordinal);
        Assert.Single(result.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        return JsonDocument.Parse(result.Stdout);
    }
}
