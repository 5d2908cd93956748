using System.Formats.Tar;
using Cleanroom.Workspaces.Changes;

namespace Cleanroom.Workspaces.Tests;

/// <summary>The copy-in set: every kind of uncommitted change against the sandbox's exact commit, as a whiteout tar.</summary>
public sealed class CopyInTests : IDisposable
{
    private readonly Scratch _scratch = new("cr-copyin");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Every_kind_of_change_against_the_exact_commit_is_found()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 40);
        await File.WriteAllTextAsync(_scratch.Combine("repo/.gitignore"), "*.log\n");
        await Shell.GitAsync(repo.Path, "add", ".gitignore");
        await Shell.GitAsync(repo.Path, "commit", "-q", "-m", "HEAD moves on after the sandbox's commit");
        await repo.MakeDirtyAsync();
        await Shell.GitAsync(repo.Path, "mv", "src/d1/f1.txt", "renamed.txt");
        await File.WriteAllTextAsync(_scratch.Combine("repo/ignored.log"), "ignored\n");
        Directory.CreateDirectory(_scratch.Combine("repo/new dir"));
        await File.WriteAllTextAsync(_scratch.Combine("repo/new dir/a b.txt"), "spaced\n");
        await Shell.ShAsync(repo.Path, "printf 'x' > \"$(printf 'bad\\377.txt')\"");

        var set = await LocalChanges.FindAsync(repo.Path, repo.Commit);

        // The name that is not UTF-8 comes exactly, its byte escaped (FileNameBytes), not skipped.
        Assert.Equal(
            [".gitignore", "bad\uDCFF.txt", "changed.txt", "new dir/a b.txt", "renamed.txt", "run.sh", "staged.txt", "untracked.txt"],
            set.Changed);
        Assert.Equal(["deleted.txt", "src/d1/f1.txt"], set.Deleted);
        Assert.Empty(set.Skipped);
        Assert.Equal(10, set.DifferingPaths);
        Assert.Equal("10 files differ from HEAD; use --copy-in to include them", set.DirtyWarning);
    }

    [Fact]
    public async Task The_tar_is_in_whiteout_form_and_the_manifest_has_git_blob_ids()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 20);
        await repo.MakeDirtyAsync();
        File.Delete(_scratch.Combine("repo/link"));
        File.CreateSymbolicLink(_scratch.Combine("repo/link"), "run.sh");
        Directory.CreateDirectory(_scratch.Combine("repo/tools"));
        await File.WriteAllTextAsync(_scratch.Combine("repo/tools/go.sh"), "#!/bin/sh\n");
        File.SetUnixFileMode(_scratch.Combine("repo/tools/go.sh"), (UnixFileMode)0x1ED);
        var set = await LocalChanges.FindAsync(repo.Path, repo.Commit);

        using var tar = new MemoryStream();
        var manifest = await set.WriteTarAsync(tar);

        tar.Position = 0;
        var entries = new List<TarEntry>();
        using (var reader = new TarReader(tar))
        {
            while (reader.GetNextEntry(copyData: true) is { } entry)
            {
                entries.Add(entry);
            }
        }

        var names = entries.Select(e => e.Name).ToList();
        Assert.Equal(".wh.deleted.txt", names[0]);
        Assert.Contains("tools/", names);
        Assert.True(names.IndexOf("tools/") < names.IndexOf("tools/go.sh"));
        var link = entries.Single(e => e.Name == "link");
        Assert.Equal(TarEntryType.SymbolicLink, link.EntryType);
        Assert.Equal("run.sh", link.LinkName);
        Assert.Equal((UnixFileMode)0x1A4, entries.Single(e => e.Name == "run.sh").Mode);
        Assert.Equal((UnixFileMode)0x1ED, entries.Single(e => e.Name == "tools/go.sh").Mode);
        Assert.Equal("uncommitted\n", await new StreamReader(entries.Single(e => e.Name == "changed.txt").DataStream!).ReadToEndAsync());

        Assert.Equal(repo.Commit, manifest.Commit);
        Assert.True(manifest.Paths["deleted.txt"].IsDeleted);
        Assert.Equal(await Shell.GitAsync(repo.Path, "hash-object", "changed.txt"), manifest.Paths["changed.txt"].Blob);
        Assert.Equal("100755", manifest.Paths["tools/go.sh"].Mode);
        Assert.Equal("120000", manifest.Paths["link"].Mode);
        Assert.Equal(await Shell.ShAsync(repo.Path, "printf run.sh | git hash-object --stdin"), manifest.Paths["link"].Blob + "\n");
        var roundTrip = BaseManifest.FromJson(manifest.ToJson());
        Assert.Equal(manifest.Paths["changed.txt"], roundTrip.Paths["changed.txt"]);
    }

    [Fact]
    public async Task Too_many_files_or_bytes_are_refused()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        await repo.MakeDirtyAsync();
        var set = await LocalChanges.FindAsync(repo.Path, repo.Commit, new LocalChangeOptions { MaxFiles = 2 });
        var ex = await Assert.ThrowsAsync<WorkspaceException>(() => set.WriteTarAsync(Stream.Null));
        Assert.Equal(WorkspaceErrorKind.TooLarge, ex.Kind);

        var bytes = await LocalChanges.FindAsync(repo.Path, repo.Commit, new LocalChangeOptions { MaxBytes = 4 });
        Assert.Equal(WorkspaceErrorKind.TooLarge, Assert.Throws<WorkspaceException>(bytes.EnsureWithinLimits).Kind);
    }

    [Fact]
    public async Task A_name_beginning_with_wh_is_skipped_not_sent_as_a_whiteout()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 4);
        await File.WriteAllTextAsync(_scratch.Combine("repo/.wh.notes"), "would delete 'notes' in the sandbox\n");
        Directory.CreateDirectory(_scratch.Combine("repo/.wh.dir"));
        await File.WriteAllTextAsync(_scratch.Combine("repo/.wh.dir/x"), "x\n");

        var set = await LocalChanges.FindAsync(repo.Path, repo.Commit);
        var manifest = await set.WriteTarAsync(Stream.Null);

        Assert.Empty(set.Changed);
        Assert.Equal([".wh.dir/x", ".wh.notes"], set.Skipped.Select(s => s.Path).Order(StringComparer.Ordinal));
        Assert.All(set.Skipped, s => Assert.Contains("reserved for whiteouts", s.Reason, StringComparison.Ordinal));
        Assert.Empty(manifest.Paths);
    }

    [Fact]
    public async Task A_clean_tree_has_no_warning()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        var set = await LocalChanges.FindAsync(repo.Path, repo.Commit);
        Assert.Null(set.DirtyWarning);
        Assert.Equal(0, set.DifferingPaths);
    }
}
