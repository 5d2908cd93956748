using System.Formats.Tar;
using System.Runtime.Versioning;
using Cleanroom.Cli.Tests.FakeDaemon;

namespace Cleanroom.Cli.Tests;

/// <summary>
/// <c>cleanroom cp</c> against the fake daemon, whose sandbox file system is a host directory (<see cref="FakeGuestFiles"/>):
/// docker cp placement both ways, modes, mtimes and symlinks kept, and hostile archives refused with nothing written
/// outside the destination and no staging directory left.
/// </summary>
[SupportedOSPlatform("linux")]
[Collection(FakeDaemonGroup.Name)]
public sealed class CpTests : IDisposable
{
    private const UnixFileMode Mode644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Mode640 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
    private const UnixFileMode Mode755 = Mode644 | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private const UnixFileMode Mode750 = Mode640 | UnixFileMode.UserExecute | UnixFileMode.GroupExecute;

    private static readonly DateTime FileTime = new(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc);
    private static readonly DateTime DirectoryTime = new(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    private readonly FakeCleanroomDaemon _daemon;
    private readonly string _scratch = Directory.CreateTempSubdirectory("cleanroom-cp-").FullName;
    private readonly string _id;

    public CpTests(FakeCleanroomDaemon daemon)
    {
        _daemon = daemon;
        _id = daemon.State.NextId("s");
        Guest = Path.Join(_scratch, "guest");
        Local = Path.Join(_scratch, "local");
        Directory.CreateDirectory(Guest);
        Directory.CreateDirectory(Local);
        FakeGuestFiles.Roots[_id] = Guest;
    }

    /// <summary>The host directory that is the fake sandbox's "/".</summary>
    private string Guest { get; }

    /// <summary>A local directory the copies go to and come from.</summary>
    private string Local { get; }

    public void Dispose()
    {
        FakeGuestFiles.Roots.TryRemove(_id, out _);
        FakeGuestFiles.CannedArchives.TryRemove(_id, out _);
        Directory.Delete(_scratch, recursive: true);
    }

    [Fact]
    public async Task A_file_comes_out_under_a_new_name_with_its_mode_and_mtime()
    {
        WriteFile(Path.Join(Guest, "data", "a.txt"), "hello\n", Mode640);

        var (code, _, err) = await CpAsync($"{_id}:/data/a.txt", Path.Join(Local, "new.txt"));

        Assert.True(code == 0, err);
        AssertFile(Path.Join(Local, "new.txt"), "hello\n", Mode640);
        AssertNoStaging(Local);
    }

    [Fact]
    public async Task A_relative_destination_is_taken_from_the_working_directory_and_an_existing_file_is_replaced()
    {
        WriteFile(Path.Join(Guest, "a.txt"), "new\n", Mode644);
        WriteFile(Path.Join(Local, "a.txt"), "old\n", Mode755);

        var (code, _, err) = await CpAsync($"{_id}:/a.txt", "a.txt");

        Assert.True(code == 0, err);
        AssertFile(Path.Join(Local, "a.txt"), "new\n", Mode644);
        AssertNoStaging(Local);
    }

    [Fact]
    public async Task A_directory_comes_out_into_an_existing_directory_with_modes_mtimes_and_symlinks()
    {
        MakeTree(Path.Join(Guest, "data", "tree"));

        var (code, _, err) = await CpAsync($"{_id}:/data/tree", Local);

        Assert.True(code == 0, err);
        AssertTree(Path.Join(Local, "tree"));
        Assert.Equal(["tree"], Directory.EnumerateFileSystemEntries(Local).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_directory_comes_out_as_a_new_name_and_its_contents_merge_into_an_existing_one()
    {
        MakeTree(Path.Join(Guest, "tree"));
        WriteFile(Path.Join(Local, "merged", "kept.txt"), "mine\n", Mode644);
        WriteFile(Path.Join(Local, "merged", "run.sh"), "old\n", Mode644);

        var renamed = await CpAsync($"{_id}:/tree", Path.Join(Local, "renamed"));
        var merged = await CpAsync($"{_id}:/tree/.", Path.Join(Local, "merged"));

        Assert.True(renamed.Code == 0, renamed.Err);
        Assert.True(merged.Code == 0, merged.Err);
        AssertTree(Path.Join(Local, "renamed"));
        AssertFile(Path.Join(Local, "merged", "run.sh"), "#!/bin/sh\necho ran\n", Mode755);
        AssertFile(Path.Join(Local, "merged", "kept.txt"), "mine\n", Mode644);
        Assert.Equal("sub/f.txt", new FileInfo(Path.Join(Local, "merged", "link")).LinkTarget);
        AssertNoStaging(Local);
        AssertNoStaging(Path.Join(Local, "merged"));
    }

    [Fact]
    public async Task Dash_writes_the_raw_tar_to_stdout()
    {
        MakeTree(Path.Join(Guest, "data", "tree"));

        var (code, stdout, err) = await CpAsync($"{_id}:/data/tree", "-");

        Assert.True(code == 0, err);
        using var reader = new TarReader(new MemoryStream(stdout));
        var entries = new List<(string, TarEntryType, string)>();
        while (reader.GetNextEntry() is { } entry)
        {
            entries.Add((entry.Name.TrimEnd('/'), entry.EntryType, entry.LinkName));
        }

        Assert.Contains(("tree", TarEntryType.Directory, ""), entries);
        Assert.Contains(("tree/run.sh", TarEntryType.RegularFile, ""), entries);
        Assert.Contains(("tree/link", TarEntryType.SymbolicLink, "sub/f.txt"), entries);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Local));
    }

    [Fact]
    public async Task A_missing_source_in_the_sandbox_is_a_clear_error()
    {
        var (code, _, err) = await CpAsync($"{_id}:/nonexistent", Path.Join(Local, "x"));

        Assert.Equal(1, code);
        Assert.Equal($"cleanroom: {_id}:/nonexistent: no such file or directory in the sandbox\n", err);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Local));
    }

    [Fact]
    public async Task A_symlink_destination_and_a_directory_onto_a_file_are_refused()
    {
        MakeTree(Path.Join(Guest, "tree"));
        Directory.CreateDirectory(Path.Join(Local, "real"));
        File.CreateSymbolicLink(Path.Join(Local, "alias"), "real");
        WriteFile(Path.Join(Local, "file"), "x", Mode644);

        var toLink = await CpAsync($"{_id}:/tree", Path.Join(Local, "alias"));
        var ontoFile = await CpAsync($"{_id}:/tree", Path.Join(Local, "file"));

        Assert.Equal(1, toLink.Code);
        Assert.Contains("is a symlink", toLink.Err, StringComparison.Ordinal);
        Assert.Equal(1, ontoFile.Code);
        Assert.Contains("cannot copy a directory onto the file", ontoFile.Err, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Join(Local, "real")));
        AssertNoStaging(Local);
    }

    [Fact]
    public async Task A_file_goes_into_an_existing_directory_and_replaces_an_existing_file()
    {
        Directory.CreateDirectory(Path.Join(Guest, "dst"));
        WriteFile(Path.Join(Guest, "dst", "existing.txt"), "old\n", Mode644);
        WriteFile(Path.Join(Local, "f.txt"), "content\n", Mode750);

        var into = await CpAsync(Path.Join(Local, "f.txt"), $"{_id}:/dst");
        var over = await CpAsync(Path.Join(Local, "f.txt"), $"{_id}:/dst/existing.txt");

        Assert.True(into.Code == 0, into.Err);
        Assert.True(over.Code == 0, over.Err);
        AssertFile(Path.Join(Guest, "dst", "f.txt"), "content\n", Mode750);
        AssertFile(Path.Join(Guest, "dst", "existing.txt"), "content\n", Mode750);
    }

    [Fact]
    public async Task A_directory_goes_in_under_a_new_name_and_its_contents_with_slash_dot()
    {
        MakeTree(Path.Join(Local, "tree"));
        Directory.CreateDirectory(Path.Join(Guest, "dst"));

        var renamed = await CpAsync(Path.Join(Local, "tree"), $"{_id}:/newname");
        var contents = await CpAsync(Path.Join(Local, "tree") + "/.", $"{_id}:/dst");

        Assert.True(renamed.Code == 0, renamed.Err);
        Assert.True(contents.Code == 0, contents.Err);
        AssertTree(Path.Join(Guest, "newname"));
        AssertFile(Path.Join(Guest, "dst", "run.sh"), "#!/bin/sh\necho ran\n", Mode755);
        Assert.Equal("sub/f.txt", new FileInfo(Path.Join(Guest, "dst", "link")).LinkTarget);
        Assert.False(Directory.Exists(Path.Join(Guest, "dst", "tree")));
    }

    [Fact]
    public async Task Copying_in_never_replaces_a_directory_by_a_file_or_the_reverse()
    {
        WriteFile(Path.Join(Guest, "dst", "name", "keep.txt"), "keep", Mode644);
        WriteFile(Path.Join(Guest, "dst", "tree"), "a file", Mode644);
        WriteFile(Path.Join(Local, "name"), "x", Mode644);
        MakeTree(Path.Join(Local, "tree"));

        var fileOverDirectory = await CpAsync(Path.Join(Local, "name"), $"{_id}:/dst");
        var directoryOverFile = await CpAsync(Path.Join(Local, "tree"), $"{_id}:/dst/");

        Assert.Equal(1, fileOverDirectory.Code);
        Assert.Contains($"cannot overwrite directory {_id}:/dst/name with a non-directory", fileOverDirectory.Err, StringComparison.Ordinal);
        Assert.Equal(1, directoryOverFile.Code);
        Assert.Contains($"cannot overwrite non-directory {_id}:/dst/tree with a directory", directoryOverFile.Err, StringComparison.Ordinal);
        Assert.Equal("keep", File.ReadAllText(Path.Join(Guest, "dst", "name", "keep.txt")));
        Assert.Equal("a file", File.ReadAllText(Path.Join(Guest, "dst", "tree")));
    }

    [Fact]
    public async Task Copying_in_needs_the_destination_parent_in_the_sandbox()
    {
        WriteFile(Path.Join(Local, "f.txt"), "x", Mode644);

        var (code, _, err) = await CpAsync(Path.Join(Local, "f.txt"), $"{_id}:/no/such/dir");

        Assert.Equal(1, code);
        Assert.Contains("parent directory does not exist in the sandbox", err, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Guest));
    }

    [Fact]
    public async Task A_tar_on_stdin_is_passed_through_into_a_directory()
    {
        Directory.CreateDirectory(Path.Join(Guest, "dst"));
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "from-stdin.txt") { DataStream = new MemoryStream("piped\n"u8.ToArray()), Mode = Mode640, ModificationTime = FileTime });
        }

        tar.Position = 0;
        using var cli = new CliHarness(_daemon.Endpoint) { Stdin = tar, WorkingDirectory = Local };
        var code = await cli.RunAsync("cp", "-", $"{_id}:/dst");

        Assert.True(code == 0, cli.Err);
        AssertFile(Path.Join(Guest, "dst", "from-stdin.txt"), "piped\n", Mode640);
    }

    [Fact]
    public async Task A_file_larger_than_several_chunks_round_trips_byte_for_byte()
    {
        var content = new byte[(3 << 20) + 17];
        Random.Shared.NextBytes(content);
        File.WriteAllBytes(Path.Join(Local, "big.bin"), content);

        var copyIn = await CpAsync(Path.Join(Local, "big.bin"), $"{_id}:/big.bin");
        var copyOut = await CpAsync($"{_id}:/big.bin", Path.Join(Local, "back.bin"));

        Assert.True(copyIn.Code == 0, copyIn.Err);
        Assert.True(copyOut.Code == 0, copyOut.Err);
        Assert.Equal(content, File.ReadAllBytes(Path.Join(Guest, "big.bin")));
        Assert.Equal(content, File.ReadAllBytes(Path.Join(Local, "back.bin")));
    }

    [Fact]
    public async Task A_terminal_is_never_read_or_written_as_a_tar()
    {
        using var fromTerminal = new CliHarness(_daemon.Endpoint) { StdinIsTerminal = true };
        using var toTerminal = new CliHarness(_daemon.Endpoint) { StdoutIsTerminal = true };

        Assert.Equal(2, await fromTerminal.RunAsync("cp", "-", $"{_id}:/"));
        Assert.Equal(2, await toTerminal.RunAsync("cp", $"{_id}:/", "-"));
        Assert.Contains("no tar to copy in", fromTerminal.Err, StringComparison.Ordinal);
        Assert.Contains("refusing to write a tar to a terminal", toTerminal.Err, StringComparison.Ordinal);
        Assert.Empty(toTerminal.Stdout.Bytes);
    }

    public static TheoryData<string, string> HostileArchives => new()
    {
        { "dot-dot", "" },
        { "symlink-escape", "" },
        { "other-top-level", "'other'" },
        { "absolute", "" },
    };

    [Theory]
    [MemberData(nameof(HostileArchives))]
    public async Task A_hostile_archive_is_refused_with_nothing_written_and_no_staging_left(string kind, string detail)
    {
        // The stat is honest; the archive the "guest" answers with is not.
        MakeTree(Path.Join(Guest, "tree"));
        var outside = Path.Join(_scratch, "outside");
        Directory.CreateDirectory(outside);
        var into = Path.Join(Local, "into");
        Directory.CreateDirectory(into);
        FakeGuestFiles.CannedArchives[_id] = HostileArchive(kind, outside);

        var (code, _, err) = await CpAsync($"{_id}:/tree", into);

        Assert.Equal(1, code);
        Assert.StartsWith("cleanroom: ", err, StringComparison.Ordinal);
        Assert.Contains("refused", err, StringComparison.Ordinal);
        Assert.Contains(detail, err, StringComparison.Ordinal);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Empty(Directory.EnumerateFileSystemEntries(into));
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.Equal(["into"], Directory.EnumerateFileSystemEntries(Local).Select(Path.GetFileName));
        Assert.Equal(["guest", "local", "outside"], Directory.EnumerateFileSystemEntries(_scratch).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    private static byte[] HostileArchive(string kind, string outside)
    {
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "tree") { Mode = Mode755 });
            switch (kind)
            {
                case "dot-dot":
                    writer.WriteEntry(File("../escape"));
                    writer.WriteEntry(File("tree/../../../outside/escape"));
                    break;
                case "symlink-escape":
                    writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "tree/link") { LinkName = outside });
                    writer.WriteEntry(File("tree/link/pwned"));
                    break;
                case "other-top-level":
                    writer.WriteEntry(File("tree/ok.txt"));
                    writer.WriteEntry(File("other"));
                    break;
                case "absolute":
                    writer.WriteEntry(File(Path.Join(outside, "abs")));
                    break;
            }
        }

        return tar.ToArray();

        static PaxTarEntry File(string name) => new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream("evil\n"u8.ToArray()), Mode = Mode644 };
    }

    private async Task<(int Code, byte[] Stdout, string Err)> CpAsync(string source, string destination)
    {
        using var cli = new CliHarness(_daemon.Endpoint) { WorkingDirectory = Local };
        var code = await cli.RunAsync("cp", source, destination);
        return (code, cli.Stdout.Bytes, cli.Err);
    }

    /// <summary>tree/ (0750, fixed mtime) with run.sh (0755), sub/f.txt (0640, fixed mtime) and link -> sub/f.txt.</summary>
    private static void MakeTree(string root)
    {
        WriteFile(Path.Join(root, "run.sh"), "#!/bin/sh\necho ran\n", Mode755);
        WriteFile(Path.Join(root, "sub", "f.txt"), "in sub\n", Mode640);
        File.CreateSymbolicLink(Path.Join(root, "link"), "sub/f.txt");
        File.SetUnixFileMode(root, Mode750);
        Directory.SetLastWriteTimeUtc(Path.Join(root, "sub"), DirectoryTime);
        Directory.SetLastWriteTimeUtc(root, DirectoryTime);
    }

    private static void AssertTree(string root)
    {
        AssertFile(Path.Join(root, "run.sh"), "#!/bin/sh\necho ran\n", Mode755);
        AssertFile(Path.Join(root, "sub", "f.txt"), "in sub\n", Mode640);
        Assert.Equal("sub/f.txt", new FileInfo(Path.Join(root, "link")).LinkTarget);
        Assert.Equal(Mode750, File.GetUnixFileMode(root));
        Assert.Equal(DirectoryTime, Directory.GetLastWriteTimeUtc(root));
        Assert.Equal(DirectoryTime, Directory.GetLastWriteTimeUtc(Path.Join(root, "sub")));
    }

    private static void WriteFile(string path, string content, UnixFileMode mode)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
        File.SetLastWriteTimeUtc(path, FileTime);
    }

    private static void AssertFile(string path, string content, UnixFileMode mode)
    {
        Assert.Equal(content, File.ReadAllText(path));
        Assert.Equal(mode, File.GetUnixFileMode(path));
        Assert.Equal(FileTime, File.GetLastWriteTimeUtc(path));
    }

    private static void AssertNoStaging(string directory) =>
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(directory), entry => Path.GetFileName(entry).StartsWith('.'));
}
