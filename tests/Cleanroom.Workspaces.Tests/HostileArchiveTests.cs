using System.Formats.Tar;
using Cleanroom.Workspaces.Changes;
using Cleanroom.Workspaces.Transfer;

namespace Cleanroom.Workspaces.Tests;

/// <summary>
/// Hostile archives from a guest, as copy-out changes and as <c>cp</c> archives: each is refused with a clear error,
/// nothing is written outside, the working tree is unchanged and no staging directory is left.
/// </summary>
public sealed class HostileArchiveTests : IDisposable
{
    private static readonly TransferLimits Small = new() { MaxBytes = 1 << 20, MaxEntries = 100, MaxFileBytes = 512 * 1024 };

    private readonly Scratch _scratch = new("cr-hostile");

    public void Dispose() => _scratch.Dispose();

    public static TheoryData<string, string> Cases => new()
    {
        { "traversal", "climbs out" },
        { "absolute", "absolute" },
        { "symlink-escape", "symlink" },
        { "symlink-escape-deep", "symlink" },
        { "hardlink-out", "absolute" },
        { "hardlink-missing", "does not exist" },
        { "hardlink-traversal", "climbs out" },
        { "device", "device node" },
        { "fifo", "FIFO" },
        { "bytes-bomb", "bytes" },
        { "file-bomb", "one file may have" },
        { "entries-bomb", "entries" },
        { "deep-path", "longer than" },
        { "depth", "deeper than" },
        { "git-dir", ".git" },
        { "nested-git-dir", ".git" },
        { "git-whiteout", ".git" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Copy_out_refuses(string name, string expected)
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        var before = await TreeSnapshot.TakeAsync(repo.Path);

        var ex = await Assert.ThrowsAsync<WorkspaceException>(() => CopyOut.RunAsync(
            repo.Path, BaseManifest.Empty(repo.Commit), Build(name), new CopyOutOptions { Limits = Small, Force = true }));

        Assert.Equal(WorkspaceErrorKind.RejectedArchive, ex.Kind);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, await TreeSnapshot.TakeAsync(repo.Path));
        Assert.False(File.Exists(_scratch.Combine("x")));
        Assert.False(File.Exists(_scratch.Combine("escaped")));
        Assert.False(File.Exists("/tmp/cr-hostile-escaped"));
        CopyOutTests.AssertNoStaging(repo);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Cp_extraction_refuses(string name, string expected)
    {
        if (name.Contains("git", StringComparison.Ordinal))
        {
            return; // a plain archive may hold a repository; only changes archives are kept away from .git
        }

        var destination = _scratch.Combine("out/dest");
        Directory.CreateDirectory(_scratch.Combine("out"));

        var ex = Assert.Throws<WorkspaceException>(() => SandboxArchive.Extract(Build(name), destination, Small));

        Assert.Equal(WorkspaceErrorKind.RejectedArchive, ex.Kind);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_scratch.Combine("out")));
        Assert.False(File.Exists(_scratch.Combine("x")));
        Assert.False(File.Exists("/tmp/cr-hostile-escaped"));
    }

    [Fact]
    public void Cp_extraction_keeps_modes_times_and_symlinks_and_drops_setuid()
    {
        Directory.CreateDirectory(_scratch.Combine("out"));
        var destination = _scratch.Combine("out/dest");
        var tar = new GuestTar()
            .Directory("bin/")
            .File("bin/tool", "#!/bin/sh\n", mode: 0xDED) // 06755
            .File("data.txt", "d\n", mode: 0x180)
            .Symlink("bin/link", "../../../../etc/passwd")
            .HardLink("copy.txt", "data.txt")
            .Build();

        var bytes = SandboxArchive.Extract(tar, destination, TransferLimits.Default);

        Assert.Equal(12, bytes);
        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(Path.Combine(destination, "bin/tool")));
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(Path.Combine(destination, "data.txt")));
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Path.Combine(destination, "data.txt")));
        Assert.Equal("../../../../etc/passwd", new FileInfo(Path.Combine(destination, "bin/link")).LinkTarget);
        Assert.Equal("d\n", File.ReadAllText(Path.Combine(destination, "copy.txt")));
        Assert.Single(Directory.GetFileSystemEntries(_scratch.Combine("out")));
        Assert.Throws<WorkspaceException>(() => SandboxArchive.Extract(new GuestTar().Build(), destination, TransferLimits.Default));
    }

    private MemoryStream Build(string name)
    {
        var tar = new GuestTar();
        switch (name)
        {
            case "traversal":
                tar.File("ok.txt", "fine\n").File("../x", "escaped\n");
                break;
            case "absolute":
                tar.File("/tmp/cr-hostile-escaped", "escaped\n");
                break;
            case "symlink-escape":
                tar.Symlink("evil", _scratch.Path).File("evil/x", "escaped\n");
                break;
            case "symlink-escape-deep":
                tar.Directory("d/").Symlink("d/up", "../..").File("d/up/escaped", "escaped\n");
                break;
            case "hardlink-out":
                tar.HardLink("h", "/etc/passwd");
                break;
            case "hardlink-missing":
                tar.HardLink("h", "not/in/the/archive");
                break;
            case "hardlink-traversal":
                tar.HardLink("h", "../../../../etc/passwd");
                break;
            case "device":
                tar.Entry(TarEntryType.CharacterDevice, "null");
                break;
            case "fifo":
                tar.Entry(TarEntryType.Fifo, "pipe");
                break;
            case "bytes-bomb":
                for (var i = 0; i < 5; i++)
                {
                    tar.File($"big{i}", new byte[300 * 1024]);
                }

                break;
            case "file-bomb":
                tar.File("huge", new byte[600 * 1024]);
                break;
            case "entries-bomb":
                for (var i = 0; i < 150; i++)
                {
                    tar.File($"f{i}", "");
                }

                break;
            case "deep-path":
                tar.File(string.Concat(Enumerable.Repeat("a/", 10_000)) + "f", "deep\n");
                break;
            case "depth":
                tar.File(string.Concat(Enumerable.Repeat("a/", 300)) + "f", "deep\n");
                break;
            case "git-dir":
                tar.File(".git/hooks/post-checkout", "#!/bin/sh\nid\n", mode: 0x1ED);
                break;
            case "nested-git-dir":
                tar.File("vendor/lib/.GIT/config", "[core]\n");
                break;
            case "git-whiteout":
                tar.Whiteout(".git");
                break;
        }

        return tar.Build();
    }
}
