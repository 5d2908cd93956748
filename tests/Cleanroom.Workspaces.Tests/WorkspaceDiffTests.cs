using System.Formats.Tar;
using Cleanroom.Workspaces.Changes;
using Cleanroom.Workspaces.Transfer;

namespace Cleanroom.Workspaces.Tests;

/// <summary><c>workspace diff</c>: a guest's changes tar classified against the commit, without writing anything.</summary>
public sealed class WorkspaceDiffTests : IDisposable
{
    private readonly Scratch _scratch = new("cr-diff");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Changes_are_classified_against_the_commit_and_rewrites_with_the_same_content_are_no_change()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 40);
        var tar = new GuestTar()
            .File("changed.txt", "from the sandbox\n")
            .File("src/d0/f0.txt", "file 0\n") // rewritten, same content
            .File("run.sh", "#!/bin/sh\necho hi\n", mode: 0x1A4) // executable bit dropped
            .Directory("new/")
            .File("new/a b.txt", "new\n")
            .Symlink("link", "changed.txt") // retargeted
            .Whiteout("deleted.txt")
            .Whiteout("never-existed.txt")
            .Whiteout("src/d2")
            .Opaque("src/d1")
            .File("src/d1/f1.txt", "file 1\n") // kept, same content
            .Build();

        var changes = await WorkspaceDiff.ComputeAsync(tar, repo.Path, repo.Commit, TransferLimits.Default, CancellationToken.None);

        var byPath = changes.ToDictionary(c => c.Path, c => c.Status);
        Assert.Equal('M', byPath["changed.txt"]);
        Assert.Equal('T', byPath["run.sh"]);
        Assert.Equal('A', byPath["new/a b.txt"]);
        Assert.Equal('M', byPath["link"]);
        Assert.Equal('D', byPath["deleted.txt"]);
        Assert.Equal('D', byPath["src/d2/f2.txt"]);
        Assert.Equal('D', byPath["src/d1/f21.txt"]); // under the opaque directory and not written again
        Assert.False(byPath.ContainsKey("src/d1/f1.txt"));
        Assert.False(byPath.ContainsKey("src/d0/f0.txt"));
        Assert.False(byPath.ContainsKey("never-existed.txt"));
        Assert.Equal(changes.Select(c => c.Path).Order(StringComparer.Ordinal), changes.Select(c => c.Path));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../b")]
    [InlineData("a//b")]
    public async Task Hostile_names_are_refused(string name)
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 2);
        var tar = new GuestTar().Entry(TarEntryType.RegularFile, name).Build();

        var error = await Assert.ThrowsAsync<WorkspaceException>(() => WorkspaceDiff.ComputeAsync(tar, repo.Path, repo.Commit, TransferLimits.Default, CancellationToken.None));

        Assert.Equal(WorkspaceErrorKind.RejectedArchive, error.Kind);
    }

    [Fact]
    public async Task An_archive_past_its_entry_budget_is_refused()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 2);
        var builder = new GuestTar();
        for (var i = 0; i < 50; i++)
        {
            builder.File($"f{i}", "x");
        }

        var error = await Assert.ThrowsAsync<WorkspaceException>(() =>
            WorkspaceDiff.ComputeAsync(builder.Build(), repo.Path, repo.Commit, TransferLimits.Default with { MaxEntries = 10 }, CancellationToken.None));

        Assert.Equal(WorkspaceErrorKind.RejectedArchive, error.Kind);
    }
}
