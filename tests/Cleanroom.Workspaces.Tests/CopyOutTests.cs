using Cleanroom.Workspaces.Changes;

namespace Cleanroom.Workspaces.Tests;

/// <summary>Copy-out: a guest's changes tar applied to a real repository, conflicts, dry runs and rollback.</summary>
public sealed class CopyOutTests : IDisposable
{
    private readonly Scratch _scratch = new("cr-copyout");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Round_trip_applies_every_kind_of_change()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 40);
        var tar = new GuestTar()
            .File("changed.txt", "from the sandbox\n")
            .Directory("new dir/")
            .File("new dir/a b.txt", "new\n")
            .File("tool.sh", "#!/bin/sh\n", mode: 0x1ED)
            .File("run.sh", "#!/bin/sh\necho hi\n", mode: 0x1A4)
            .Symlink("new-link", "changed.txt")
            .Whiteout("deleted.txt")
            .Whiteout("src/d2")
            .Directory("src/d1/")
            .Opaque("src/d1")
            .File("src/d1/only.txt", "only\n")
            .Build();

        var result = await CopyOut.RunAsync(repo.Path, BaseManifest.Empty(repo.Commit), tar);

        Assert.Equal(CopyOutOutcome.Applied, result.Outcome);
        Assert.Empty(result.Conflicts);
        Assert.Equal(["new dir/a b.txt", "new-link", "src/d1/only.txt", "tool.sh"], result.Added);
        Assert.Equal(["changed.txt"], result.Modified);
        Assert.Equal(["run.sh"], result.ModeChanged);
        Assert.Contains("deleted.txt", result.Deleted);
        Assert.Contains("src/d2/f2.txt", result.Deleted);
        Assert.Contains("src/d1/f1.txt", result.Deleted);
        Assert.Equal("from the sandbox\n", await File.ReadAllTextAsync(Path.Combine(repo.Path, "changed.txt")));
        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(Path.Combine(repo.Path, "tool.sh")));
        Assert.Equal("changed.txt", new FileInfo(Path.Combine(repo.Path, "new-link")).LinkTarget);
        Assert.Equal(["only.txt"], Directory.GetFiles(Path.Combine(repo.Path, "src/d1")).Select(Path.GetFileName));
        Assert.False(Directory.Exists(Path.Combine(repo.Path, "src/d2")));

        var status = await Shell.GitAsync(repo.Path, "status", "--porcelain", "--untracked-files=all");
        var lines = status.Split('\n').Select(l => l.Trim()).ToHashSet();
        Assert.Contains("M changed.txt", lines);
        Assert.Contains("M run.sh", lines);
        Assert.Contains("D deleted.txt", lines);
        Assert.Contains("D src/d2/f2.txt", lines);
        Assert.Contains("?? \"new dir/a b.txt\"", lines);
        Assert.Contains("?? tool.sh", lines);
        Assert.Contains("?? src/d1/only.txt", lines);
        AssertNoStaging(repo);
    }

    [Fact]
    public async Task A_local_edit_made_meanwhile_is_a_conflict_unless_forced()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 10);
        await File.WriteAllTextAsync(Path.Combine(repo.Path, "changed.txt"), "edited locally\n");
        await File.WriteAllTextAsync(Path.Combine(repo.Path, "same.txt"), "identical\n");
        var before = await TreeSnapshot.TakeAsync(repo.Path);
        GuestTar Tar() => new GuestTar().File("changed.txt", "from the sandbox\n").File("same.txt", "identical\n").File("added.txt", "a\n");

        var refused = await CopyOut.RunAsync(repo.Path, BaseManifest.Empty(repo.Commit), Tar().Build());

        Assert.Equal(CopyOutOutcome.Conflicts, refused.Outcome);
        var conflict = Assert.Single(refused.Conflicts);
        Assert.Equal(new CopyOutConflict("changed.txt", "changed locally"), conflict);
        Assert.Equal(1, refused.Unchanged); // same.txt is untracked but already what the sandbox has: no conflict
        Assert.Equal(before, await TreeSnapshot.TakeAsync(repo.Path));
        AssertNoStaging(repo);

        var forced = await CopyOut.RunAsync(repo.Path, BaseManifest.Empty(repo.Commit), Tar().Build(), new CopyOutOptions { Force = true });
        Assert.Equal(CopyOutOutcome.Applied, forced.Outcome);
        Assert.Equal("from the sandbox\n", await File.ReadAllTextAsync(Path.Combine(repo.Path, "changed.txt")));
        Assert.Equal("a\n", await File.ReadAllTextAsync(Path.Combine(repo.Path, "added.txt")));
    }

    [Fact]
    public async Task The_manifest_is_the_base_for_paths_that_were_copied_in()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 10);
        await repo.MakeDirtyAsync();
        var set = await LocalChanges.FindAsync(repo.Path, repo.Commit);
        var manifest = await set.WriteTarAsync(Stream.Null);
        var json = BaseManifest.FromJson(manifest.ToJson());

        // The sandbox got the dirty tree, changed untracked.txt and deleted staged.txt; locally nothing moved since.
        // The changes are the whole upper layer, so they hold the other copied-in files as they were copied in.
        var tar = CopiedIn(withAdded: false).File("untracked.txt", "changed in the sandbox\n").Whiteout("staged.txt").Build();
        var result = await CopyOut.RunAsync(repo.Path, json, tar);

        Assert.Equal(CopyOutOutcome.Applied, result.Outcome);
        Assert.Equal(["untracked.txt"], result.Modified);
        Assert.Equal(["staged.txt"], result.Deleted);

        // Against the commit alone both would have been conflicts: neither is in it.
        var again = await CopyOut.RunAsync(repo.Path, BaseManifest.Empty(repo.Commit), new GuestTar().File("untracked.txt", "x\n").Build());
        Assert.Equal(CopyOutOutcome.Conflicts, again.Outcome);
    }

    [Fact]
    public async Task A_copied_in_file_the_commit_lacks_is_deleted_when_the_sandbox_deleted_it()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 10);
        await repo.MakeDirtyAsync();
        var manifest = await (await LocalChanges.FindAsync(repo.Path, repo.Commit)).WriteTarAsync(Stream.Null);

        // The sandbox removed staged.txt and untracked.txt, which only copy-in gave it: no whiteouts, they are just gone.
        var result = await CopyOut.RunAsync(repo.Path, manifest, CopiedIn(withAdded: false).Build());

        Assert.Equal(CopyOutOutcome.Applied, result.Outcome);
        Assert.Equal(["staged.txt", "untracked.txt"], result.Deleted);
        Assert.False(File.Exists(Path.Combine(repo.Path, "untracked.txt")));
        Assert.Equal("uncommitted\n", File.ReadAllText(Path.Combine(repo.Path, "changed.txt")));
    }

    [Fact]
    public async Task A_copied_in_file_edited_locally_meanwhile_is_a_conflict_when_the_sandbox_deleted_it()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 10);
        await repo.MakeDirtyAsync();
        var manifest = await (await LocalChanges.FindAsync(repo.Path, repo.Commit)).WriteTarAsync(Stream.Null);
        File.WriteAllText(Path.Combine(repo.Path, "untracked.txt"), "edited locally meanwhile\n");

        var result = await CopyOut.RunAsync(repo.Path, manifest, CopiedIn(withAdded: false).Build());

        Assert.Equal(CopyOutOutcome.Conflicts, result.Outcome);
        Assert.Equal("untracked.txt", Assert.Single(result.Conflicts).Path);
        Assert.Equal("edited locally meanwhile\n", File.ReadAllText(Path.Combine(repo.Path, "untracked.txt")));
    }

    [Fact]
    public async Task A_stream_that_fails_after_a_well_ended_tar_changes_nothing()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 10);
        await repo.MakeDirtyAsync();
        var manifest = await (await LocalChanges.FindAsync(repo.Path, repo.Commit)).WriteTarAsync(Stream.Null);

        // A guest tool that failed halfway: its tar ends well but lacks the copied-in files, and the RPC then fails.
        var cutShort = new FailingAtEndStream(CopiedIn(withAdded: false).File("changed.txt", "sandbox\n").Build().ToArray());
        var ex = await Assert.ThrowsAsync<IOException>(() => CopyOut.RunAsync(repo.Path, manifest, cutShort));

        Assert.Contains("the guest tool failed", ex.Message, StringComparison.Ordinal);
        Assert.Equal("untracked\n", File.ReadAllText(Path.Combine(repo.Path, "untracked.txt")));
        Assert.Equal("uncommitted\n", File.ReadAllText(Path.Combine(repo.Path, "changed.txt")));
    }

    [Fact]
    public async Task A_copied_in_file_below_a_local_symlink_is_neither_deleted_nor_a_failure()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 10);
        Directory.CreateDirectory(Path.Combine(repo.Path, "newdir"));
        File.WriteAllText(Path.Combine(repo.Path, "newdir", "a"), "copied in\n");
        var manifest = await (await LocalChanges.FindAsync(repo.Path, repo.Commit)).WriteTarAsync(Stream.Null);
        var elsewhere = _scratch.Combine("elsewhere");
        Directory.Move(Path.Combine(repo.Path, "newdir"), elsewhere);
        File.CreateSymbolicLink(Path.Combine(repo.Path, "newdir"), elsewhere);

        // The sandbox deleted newdir/a; locally newdir is now a symlink, which copy-out never goes through.
        var result = await CopyOut.RunAsync(repo.Path, manifest, new GuestTar().File("other.txt", "made in the sandbox\n").Build());

        Assert.Equal(CopyOutOutcome.Applied, result.Outcome);
        Assert.Empty(result.Deleted);
        Assert.Equal("copied in\n", File.ReadAllText(Path.Combine(elsewhere, "a")));
    }

    [Fact]
    public async Task A_dry_run_changes_nothing()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 10);
        var before = await TreeSnapshot.TakeAsync(repo.Path);
        var tar = new GuestTar().File("changed.txt", "x\n").File("n/new.txt", "y\n").Whiteout("deleted.txt").Build();

        var result = await CopyOut.RunAsync(repo.Path, BaseManifest.Empty(repo.Commit), tar, new CopyOutOptions { DryRun = true });

        Assert.Equal(CopyOutOutcome.DryRun, result.Outcome);
        Assert.Equal(["n/new.txt"], result.Added);
        Assert.Equal(["changed.txt"], result.Modified);
        Assert.Equal(["deleted.txt"], result.Deleted);
        Assert.Equal(3, result.Files);
        Assert.StartsWith("3 files would be copied out: 1 added, 1 modified, 0 mode changed, 1 deleted, +4 bytes", result.Summary(), StringComparison.Ordinal);
        Assert.Equal(before, await TreeSnapshot.TakeAsync(repo.Path));
        AssertNoStaging(repo);
    }

    [Fact]
    public async Task A_symlinked_parent_in_the_local_tree_is_refused()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 10);
        var outside = Directory.CreateDirectory(_scratch.Combine("outside")).FullName;
        Directory.Delete(Path.Combine(repo.Path, "src/d3"), recursive: true);
        File.CreateSymbolicLink(Path.Combine(repo.Path, "src/d3"), outside);
        var before = await TreeSnapshot.TakeAsync(repo.Path);

        foreach (var tar in new[] { new GuestTar().File("src/d3/pwned.txt", "x\n"), new GuestTar().Whiteout("src/d3/f3.txt") })
        {
            var ex = await Assert.ThrowsAsync<WorkspaceException>(
                () => CopyOut.RunAsync(repo.Path, BaseManifest.Empty(repo.Commit), tar.Build(), new CopyOutOptions { Force = true }));
            Assert.Equal(WorkspaceErrorKind.CopyOutFailed, ex.Kind);
            Assert.Contains("symlink", ex.Message, StringComparison.Ordinal);
        }

        Assert.Empty(Directory.GetFileSystemEntries(outside));
        Assert.Equal(before, await TreeSnapshot.TakeAsync(repo.Path));
        AssertNoStaging(repo);
    }

    [Fact]
    public async Task A_failure_mid_apply_is_rolled_back_exactly()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 10);
        var before = await TreeSnapshot.TakeAsync(repo.Path);
        GuestTar Tar() => new GuestTar()
            .File("changed.txt", "x\n")
            .File("blob.bin", "small now\n")
            .Directory("brand/new/")
            .File("brand/new/file.txt", "n\n")
            .File("src/d0/extra.txt", "e\n")
            .Whiteout("deleted.txt")
            .Whiteout("src/d4");

        foreach (var failAt in new[] { "deleted.txt", "brand", "src/d0/extra.txt" })
        {
            var ex = await Assert.ThrowsAsync<WorkspaceException>(() => CopyOut.RunAsync(
                repo.Path,
                BaseManifest.Empty(repo.Commit),
                Tar().Build(),
                CopyOutOptions.Default,
                path => { if (path == failAt) { throw new IOException("injected failure"); } },
                CancellationToken.None));
            Assert.Equal(WorkspaceErrorKind.CopyOutFailed, ex.Kind);
            Assert.Contains("rolled back", ex.Message, StringComparison.Ordinal);
            Assert.Equal(before, await TreeSnapshot.TakeAsync(repo.Path));
            AssertNoStaging(repo);
        }

        // A real failure: an immutable file cannot be moved aside, not even by root (its removal comes third).
        var immutable = Path.Combine(repo.Path, "deleted.txt");
        await Shell.RunAsync("chattr", "+i", immutable);
        try
        {
            var ex = await Assert.ThrowsAsync<WorkspaceException>(() => CopyOut.RunAsync(repo.Path, BaseManifest.Empty(repo.Commit), Tar().Build()));
            Assert.Contains("rolled back", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            await Shell.RunAsync("chattr", "-i", immutable);
        }

        Assert.Equal(before, await TreeSnapshot.TakeAsync(repo.Path));
        AssertNoStaging(repo);
    }

    [Fact]
    public async Task An_opaque_root_replaces_everything_but_git()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);

        GuestTar Tar() => new GuestTar().Opaque("").File("only.txt", "o\n");

        // The committed file whose name is not UTF-8 is named exactly, checked against the commit and deleted too.
        var result = await CopyOut.RunAsync(repo.Path, BaseManifest.Empty(repo.Commit), Tar().Build());

        Assert.Equal(CopyOutOutcome.Applied, result.Outcome);
        Assert.Empty(result.Conflicts);
        Assert.Contains("caf\uDCE9.txt", result.Deleted);
        Assert.Contains("blob.bin", result.Deleted);
        Assert.Equal(["only.txt"], result.Added);
        Assert.Equal([".git", "only.txt"], Directory.GetFileSystemEntries(repo.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(repo.Commit, await Shell.GitAsync(repo.Path, "rev-parse", "HEAD"));
    }

    [Fact]
    public async Task Setuid_setgid_and_sticky_bits_are_dropped()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        var tar = new GuestTar().File("suid.sh", "#!/bin/sh\n", mode: 0xFED).Build(); // 07755

        await CopyOut.RunAsync(repo.Path, BaseManifest.Empty(repo.Commit), tar);

        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(Path.Combine(repo.Path, "suid.sh")));
    }

    internal static void AssertNoStaging(TestRepository repo)
    {
        var staging = Path.Combine(repo.Path, ".git", "cleanroom");
        Assert.True(!Directory.Exists(staging) || Directory.GetFileSystemEntries(staging).Length == 0, "a staging directory was left behind");
    }

    /// <summary>
    /// The upper layer of a sandbox that got <see cref="TestRepository.MakeDirtyAsync"/> copied in and changed
    /// nothing: the copied-in files as they were copied (the added ones, staged.txt and untracked.txt, unless left out).
    /// </summary>
    private static GuestTar CopiedIn(bool withAdded = true)
    {
        var tar = new GuestTar().File("changed.txt", "uncommitted\n").File("run.sh", "#!/bin/sh\necho hi\n", 0x1A4);
        return withAdded ? tar.File("staged.txt", "staged\n").File("untracked.txt", "untracked\n") : tar;
    }

    /// <summary>Gives its bytes, then fails where the end would be: an RPC whose status arrives after the data.</summary>
    private sealed class FailingAtEndStream(byte[] data) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) =>
            base.Read(buffer, offset, count) is var read && (read > 0 || count == 0) ? read : throw new IOException("the guest tool failed (exit 1)");

        public override int Read(Span<byte> buffer) =>
            base.Read(buffer) is var read && (read > 0 || buffer.IsEmpty) ? read : throw new IOException("the guest tool failed (exit 1)");

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer, offset, count));
    }
}
