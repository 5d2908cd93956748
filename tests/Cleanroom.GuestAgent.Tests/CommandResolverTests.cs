using Cleanroom.GuestAgent.Exec;

namespace Cleanroom.GuestAgent.Tests;

public class CommandResolverTests
{
    private static readonly Dictionary<string, FileKind> Files = new()
    {
        ["/usr/bin/tool"] = FileKind.Executable,
        ["/bin/tool"] = FileKind.Executable,
        ["/opt/data"] = FileKind.NotExecutable,
        ["/usr/bin/data"] = FileKind.Executable,
        ["/opt/dir"] = FileKind.Directory,
        ["/work/local"] = FileKind.Executable,
        ["/work/./here"] = FileKind.Executable,
        ["/opt/only-data"] = FileKind.NotExecutable,
    };

    [Fact]
    public void First_match_on_the_path_wins() =>
        Assert.Equal(CommandResolution.Found("/usr/bin/tool"), Resolve("tool", "/nowhere:/usr/bin:/bin"));

    [Fact]
    public void Not_executable_entries_are_skipped_when_a_later_one_runs() =>
        Assert.Equal(CommandResolution.Found("/usr/bin/data"), Resolve("data", "/opt:/usr/bin"));

    [Fact]
    public void Only_a_non_executable_match_is_126()
    {
        var result = Resolve("only-data", "/opt:/usr/bin");
        Assert.Null(result.Path);
        Assert.Equal(126, result.FailureCode);
        Assert.Contains("permission denied", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_found_is_127() =>
        Assert.Equal(CommandResolution.NotFound("command not found: nope"), Resolve("nope", "/usr/bin:/bin"));

    [Fact]
    public void Directories_are_not_commands() =>
        Assert.Equal(CommandResolution.NotFound("command not found: dir"), Resolve("dir", "/opt"));

    [Fact]
    public void Missing_path_is_treated_as_empty() =>
        Assert.Equal(CommandResolution.NotFound("command not found: tool"), Resolve("tool", null, "/"));

    [Fact]
    public void Empty_path_entry_means_the_working_directory() =>
        Assert.Equal(CommandResolution.Found("/work/./here"), Resolve("here", "/usr/bin:", "/work"));

    [Fact]
    public void Absolute_names_skip_the_search() =>
        Assert.Equal(CommandResolution.Found("/usr/bin/tool"), Resolve("/usr/bin/tool", ""));

    [Fact]
    public void Relative_names_with_a_slash_resolve_against_the_working_directory()
    {
        var files = new Dictionary<string, FileKind> { ["/work/./bin/run"] = FileKind.Executable };
        Assert.Equal(CommandResolution.Found("/work/./bin/run"), CommandResolver.Resolve("./bin/run", "/usr/bin", "/work", p => files.GetValueOrDefault(p)));
    }

    [Theory]
    [InlineData("/opt/dir", 126, "/opt/dir: is a directory")]
    [InlineData("/opt/data", 126, "/opt/data: permission denied")]
    [InlineData("/no/such", 127, "/no/such: no such file or directory")]
    public void Paths_that_cannot_run(string command, int code, string message) =>
        Assert.Equal(new CommandResolution(null, code, message), Resolve(command, "/usr/bin"));

    private static CommandResolution Resolve(string command, string? path, string cwd = "/") =>
        CommandResolver.Resolve(command, path, cwd, p => Files.GetValueOrDefault(p, FileKind.Missing));
}
