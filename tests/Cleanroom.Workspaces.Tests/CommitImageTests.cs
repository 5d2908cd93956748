using System.Security.Cryptography;

namespace Cleanroom.Workspaces.Tests;

/// <summary>The image holds exactly the commit's tree (not the dirty working tree) and a working, credential-free .git.</summary>
public sealed class CommitImageTests(DirtyRepositoryImage fixture) : IClassFixture<DirtyRepositoryImage>
{
    private MountedImage Mount => fixture.Mount;

    [Fact]
    public void Image_is_built_for_the_commit_HEAD_points_to()
    {
        Assert.True(fixture.Image.Built);
        Assert.Equal(fixture.Repository.Commit, fixture.Image.Commit);
        Assert.Empty(fixture.Image.SkippedSubmodules);
        Assert.Equal(Path.Combine(fixture.StoreDirectory, $"v{WorkspaceImageStore.FormatVersion}-{fixture.Repository.Commit}.ext4"), fixture.Image.Path);
    }

    [Fact]
    public async Task Image_holds_exactly_the_commits_paths()
    {
        // Byte-exact path lists (NUL separated, so the non-UTF-8 name compares as bytes): ls-tree of the commit vs the image.
        var committed = await Shell.ShAsync(fixture.Repository.Path, "git ls-tree -r -t -z --name-only HEAD | tr '\\0' '\\n' | LC_ALL=C sort | od -An -tx1");
        var imaged = await Shell.ShAsync(
            Mount.Path, "find . -mindepth 1 -path ./.git -prune -o -path ./lost+found -prune -o -printf '%P\\n' | LC_ALL=C sort | od -An -tx1");
        Assert.Equal(committed, imaged);
    }

    [Fact]
    public async Task Uncommitted_changes_are_not_in_the_image()
    {
        Assert.Equal("committed\n", await File.ReadAllTextAsync(Mount.Combine("changed.txt")));
        Assert.Equal("still in the commit\n", await File.ReadAllTextAsync(Mount.Combine("deleted.txt")));
        Assert.False(File.Exists(Mount.Combine("staged.txt")));
        Assert.False(File.Exists(Mount.Combine("untracked.txt")));
    }

    [Fact]
    public async Task Modes_symlinks_odd_names_and_large_files_survive()
    {
        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(Mount.Combine("run.sh")) & (UnixFileMode)0b111_111_111);
        Assert.Equal((UnixFileMode)0b110_100_100, File.GetUnixFileMode(Mount.Combine("src/d0/f0.txt")) & (UnixFileMode)0b111_111_111);
        Assert.Equal("src/d0/f0.txt", new FileInfo(Mount.Combine("link")).LinkTarget);
        Assert.Equal("spaced\n", await File.ReadAllTextAsync(Mount.Combine("with space.txt")));
        Assert.Equal("latin1\n", await Shell.ShAsync(Mount.Path, "cat \"$(printf 'caf\\351.txt')\""));
        var expected = new byte[TestRepository.BinaryBytes];
        new Random(42).NextBytes(expected);
        Assert.Equal(SHA256.HashData(expected), SHA256.HashData(await File.ReadAllBytesAsync(Mount.Combine("blob.bin"))));
    }

    [Fact]
    public async Task Git_in_the_image_sees_a_clean_checkout_of_the_commit()
    {
        // The mount is read-only: git must not need to rewrite the index to call the tree clean.
        Assert.Equal(string.Empty, await GitInImageAsync("status", "--porcelain"));
        Assert.Equal(fixture.Repository.Commit, await GitInImageAsync("log", "-1", "--format=%H"));
        Assert.Equal(fixture.Repository.Commit, await GitInImageAsync("rev-parse", "HEAD"));
        Assert.StartsWith(await GitInImageAsync("describe", "--always"), fixture.Repository.Commit, StringComparison.Ordinal);
        Assert.Equal("committed\n", await GitInImageAsync("show", "HEAD:changed.txt") + "\n");
    }

    [Fact]
    public async Task Index_stat_data_matches_so_status_rehashes_nothing()
    {
        // A file as new as the index is "racily clean": git would re-read it on every status in the guest.
        var index = File.GetLastWriteTimeUtc(Mount.Combine(".git/index"));
        var newest = Directory.EnumerateFiles(Mount.Path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(f => !f.Contains("/.git/", StringComparison.Ordinal) && !f.Contains("/lost+found", StringComparison.Ordinal))
            .Max(f => File.GetLastWriteTimeUtc(f));
        Assert.True(TruncateToSecond(newest) < TruncateToSecond(index), $"index {index:O} is not newer than the newest file {newest:O}");
        Assert.Equal(string.Empty, await GitInImageAsync("diff-files", "--name-only"));
    }

    [Fact]
    public async Task Dot_git_has_no_remote_no_credentials_and_no_hooks()
    {
        var config = await File.ReadAllTextAsync(Mount.Combine(".git/config"));
        Assert.DoesNotContain("url", config, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("remote", config, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("checkStat = minimal", config, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Mount.Combine(".git/hooks")));
        Assert.Equal(string.Empty, await GitInImageAsync("remote"));
        Assert.False(await ContainsAsync(fixture.Image.Path, TestRepository.Credential), "the credential reached the image");
    }

    private Task<string> GitInImageAsync(params string[] args) =>
        Shell.RunAsync("env", ["GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "git", "-c", "safe.directory=*", "-C", Mount.Path, .. args])
            .ContinueWith(t => t.Result.TrimEnd('\n'), TaskScheduler.Default);

    private static DateTime TruncateToSecond(DateTime time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), time.Kind);

    /// <summary>Scans the raw image (every block, including free ones) for <paramref name="text"/>.</summary>
    private static async Task<bool> ContainsAsync(string path, string text)
    {
        var needle = System.Text.Encoding.ASCII.GetBytes(text);
        var buffer = new byte[(4 << 20) + needle.Length];
        await using var stream = File.OpenRead(path);
        var carried = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer.AsMemory(carried, buffer.Length - carried))) > 0)
        {
            var filled = carried + read;
            if (buffer.AsSpan(0, filled).IndexOf(needle) >= 0)
            {
                return true;
            }

            carried = Math.Min(needle.Length - 1, filled);
            Buffer.BlockCopy(buffer, filled - carried, buffer, 0, carried);
        }

        return false;
    }
}
