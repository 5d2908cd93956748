using Cleanroom.Cli.Workspaces;

namespace Cleanroom.Cli.Tests;

/// <summary>What the CLI reads from the user's repository before it asks for a checkout.</summary>
public sealed class LocalRepositoryTests
{
    [Theory]
    [InlineData("", 0)]
    [InlineData(" M a.txt\0", 1)]
    [InlineData(" M a.txt\0?? new file\0D  gone\0", 3)]
    [InlineData("R  new name\0old name\0 M other\0", 2)] // a rename carries its source as one more field
    [InlineData("C  copy\0source\0", 1)]
    public void Status_entries_are_counted_once_each(string status, int expected) =>
        Assert.Equal(expected, LocalRepository.CountStatusEntries(status));

    [Theory]
    [InlineData("https://user:token@git.example/org/app.git", "https://git.example/org/app.git")]
    [InlineData("https://token@git.example/app", "https://git.example/app")]
    [InlineData("https://git.example/app", "https://git.example/app")]
    [InlineData("git@git.example:org/app.git", "git@git.example:org/app.git")]
    [InlineData("ssh://git@git.example/app", "ssh://git.example/app")]
    [InlineData("file:///srv/repo", "file:///srv/repo")]
    [InlineData("https://a@b@git.example/x", "https://git.example/x")]
    [InlineData("https://git.example/\u001b[31m", "")]
    public void A_remote_url_is_shown_without_credentials(string url, string expected) =>
        Assert.Equal(expected, RemoteUrl.WithoutCredentials(url));

    [Fact]
    public async Task A_dirty_repository_is_checked_out_at_head_and_its_changes_counted()
    {
        var root = Directory.CreateTempSubdirectory("cr-cli-repo-").FullName;
        try
        {
            Git(root, "init", "-q");
            await File.WriteAllTextAsync(Path.Combine(root, "a.txt"), "a\n");
            Git(root, "add", "a.txt");
            Git(root, "-c", "user.email=t@example.invalid", "-c", "user.name=T", "commit", "-q", "-m", "one");
            Git(root, "remote", "add", "origin", "https://me:secret@git.example/app.git");
            await File.WriteAllTextAsync(Path.Combine(root, "a.txt"), "changed\n");
            await File.WriteAllTextAsync(Path.Combine(root, "b.txt"), "new\n");
            Directory.CreateDirectory(Path.Combine(root, "sub"));

            var (repository, note) = await LocalRepository.FindAsync(Path.Combine(root, "sub"), Cleanroom.Policy.RepositorySettings.Default, countChanges: true, CancellationToken.None);

            Assert.Null(note);
            Assert.NotNull(repository);
            Assert.Equal(root, repository.Checkout.LocalPath);
            Assert.Equal(Git(root, "rev-parse", "HEAD").Trim(), repository.Checkout.Commit);
            Assert.Equal("https://git.example/app.git", repository.Checkout.DisplayName);
            Assert.Equal(2, await repository.ChangedFiles);
            Assert.StartsWith("2 files differ from HEAD", await repository.DirtyWarningAsync(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_repository_without_commits_gets_a_note_and_no_checkout()
    {
        var root = Directory.CreateTempSubdirectory("cr-cli-repo-").FullName;
        try
        {
            Git(root, "init", "-q");

            var (repository, note) = await LocalRepository.FindAsync(root, Cleanroom.Policy.RepositorySettings.Default, countChanges: true, CancellationToken.None);

            Assert.Null(repository);
            Assert.Contains("no commit yet", note, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string Git(string directory, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("git", ["-C", directory, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }
}
