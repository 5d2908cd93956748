using System.Text;
using System.Text.Json;
using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>stat and remove of paths that are not valid UTF-8 (the host hands them over as escaped strings).</summary>
public sealed class RawNameStatRemoveTests : IDisposable
{
    private readonly TempTree _tree = new();

    [Fact]
    public void Stat_gives_the_exact_bytes_of_a_path_and_a_link_target_alongside_a_readable_form()
    {
        var root = Encoding.UTF8.GetBytes(_tree.Root);
        var file = RawFiles.Join(root, RawNames.Cafe);
        RawFiles.CreateFile(file, "12345"u8.ToArray(), mode: 0x1ED);
        var link = RawFiles.Join(root, RawFiles.Bytes("ln", 0xFF));
        RawFiles.Symlink(RawNames.Truncated, link);

        using var fileJson = Stat(FileNameBytes.Decode(file));
        var fileRoot = fileJson.RootElement;
        Assert.Equal(_tree.Root + "/caf\uFFFD", fileRoot.GetProperty("path").GetString());
        Assert.Equal(file, Convert.FromBase64String(fileRoot.GetProperty("path_raw").GetString()!));
        Assert.Equal(("file", "0755", 5), (fileRoot.GetProperty("type").GetString(), fileRoot.GetProperty("mode").GetString(), fileRoot.GetProperty("size").GetInt64()));

        using var linkJson = Stat(FileNameBytes.Decode(link));
        var linkRoot = linkJson.RootElement;
        Assert.Equal("symlink", linkRoot.GetProperty("type").GetString());
        Assert.Equal("trunc\uFFFD", linkRoot.GetProperty("link_target").GetString());
        Assert.Equal(RawNames.Truncated, Convert.FromBase64String(linkRoot.GetProperty("link_target_raw").GetString()!));

        using var plainJson = Stat(_tree.Root);
        Assert.False(plainJson.RootElement.TryGetProperty("path_raw", out _));
    }

    [Fact]
    public void Remove_takes_a_path_that_is_not_utf8_and_trees_holding_such_names()
    {
        var root = Encoding.UTF8.GetBytes(_tree.Root);
        var file = RawFiles.Join(root, RawNames.Invalid);
        RawFiles.CreateFile(file);
        var directory = RawFiles.Join(root, RawNames.Directory);
        RawFiles.Mkdir(directory);
        RawFiles.CreateFile(RawFiles.Join(directory, RawNames.Continuation));
        RawFiles.Symlink(RawNames.Cafe, RawFiles.Join(directory, RawNames.Cafe));
        RawFiles.CreateFile(RawFiles.Join(root, "keep"u8.ToArray()));

        Assert.Equal((0, ""), Outcome(ToolRunner.Run("remove", FileNameBytes.Decode(file))));
        Assert.Equal((0, ""), Outcome(ToolRunner.Run("remove", "-r", FileNameBytes.Decode(directory))));

        Assert.Equal(["keep 644 file "], RawFiles.Describe(root));
        var missing = ToolRunner.Run("remove", FileNameBytes.Decode(file));
        Assert.Equal((1, $"no such file or directory: {_tree.Root}/\\xff\\xfe\n"), (missing.ExitCode, missing.Stderr));
    }

    public void Dispose() => _tree.Dispose();

    private static (int, string) Outcome(ToolResult result) => (result.ExitCode, result.Stderr);

    private static JsonDocument Stat(string path)
    {
        var result = ToolRunner.Run("stat", path);
        Assert.Equal((0, ""), (result.ExitCode, result.Stderr));
        return JsonDocument.Parse(result.Stdout);
    }
}
