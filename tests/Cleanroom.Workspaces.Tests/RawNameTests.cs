using System.Formats.Tar;
using System.Text;
using Cleanroom.Escaping;
using Cleanroom.Workspaces.Changes;
using Cleanroom.Workspaces.Transfer;

namespace Cleanroom.Workspaces.Tests;

/// <summary>
/// File names that are not valid UTF-8 (here as escaped bytes, see <see cref="FileNameBytes"/>) through copy-in,
/// copy-out, workspace diff and cp extraction: byte-exact on disk and in the tars (the <see cref="PaxRawNames"/>
/// vendor records), checked with shell tools rather than .NET; and hostile vendor records refused.
/// </summary>
public sealed class RawNameTests : IDisposable
{
    /// <summary>"caf\xe9.txt", committed by <see cref="TestRepository"/> with "latin1\n".</summary>
    private const string Cafe = "caf\uDCE9.txt";

    private readonly Scratch _scratch = new("cr-rawnames");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Copy_in_carries_modified_added_deleted_renamed_mode_changed_files_and_a_symlink_byte_exact()
    {
        const string Modified = "mod\uDCE9.txt", Gone = "del\uDCFF.txt", Old = "old\uDCFE.txt", Renamed = "new\uDCFD.txt";
        const string Executable = "exe\uDCE9.sh", Added = "add\uDCE9/inner\uDCFF.txt", Link = "lnk\uDCFA", Target = "t\uDCE9rget";
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        foreach (var name in new[] { Modified, Gone, Old, Executable })
        {
            await RawNames.WriteAsync(repo.Path, name, "committed");
        }

        await Shell.GitAsync(repo.Path, "add", "-A");
        await Shell.GitAsync(repo.Path, "commit", "-q", "-m", "names that are not UTF-8");
        var commit = await Shell.GitAsync(repo.Path, "rev-parse", "HEAD");
        await RawNames.WriteAsync(repo.Path, Modified, "changed");
        await RawNames.WriteAsync(repo.Path, Added, "added");
        await Shell.ShAsync(
            repo.Path,
            $"rm {RawNames.Word(Gone)} && git mv {RawNames.Word(Old)} {RawNames.Word(Renamed)} && chmod +x {RawNames.Word(Executable)} && ln -s {RawNames.Word(Target)} {RawNames.Word(Link)}");

        var set = await LocalChanges.FindAsync(repo.Path, commit);

        Assert.Equal(new[] { Added, Executable, Link, Modified, Renamed }.Order(StringComparer.Ordinal), set.Changed);
        Assert.Equal([Gone, Old], set.Deleted);
        Assert.Empty(set.Skipped);

        using var tar = new MemoryStream();
        var manifest = await set.WriteTarAsync(tar);
        tar.Position = 0;
        var entries = new Dictionary<string, TarEntry>(StringComparer.Ordinal);
        using (var reader = new TarReader(tar))
        {
            while (reader.GetNextEntry(copyData: true) is { } entry)
            {
                entries[PaxRawNames.NameOf(entry)] = entry;
            }
        }

        Assert.Contains(".wh." + Gone, entries.Keys);
        Assert.Contains(".wh." + Old, entries.Keys);
        Assert.Equal(TarEntryType.Directory, entries["add\uDCE9/"].EntryType);
        var added = (PaxTarEntry)entries[Added];
        Assert.Equal(FileNameBytes.Encode(Added), Convert.FromBase64String(added.ExtendedAttributes[PaxRawNames.PathKey]));
        Assert.Contains('\uFFFD', added.Name); // what other tar tools see
        Assert.Equal("added", await new StreamReader(added.DataStream!).ReadToEndAsync());
        Assert.Equal("changed", await new StreamReader(entries[Modified].DataStream!).ReadToEndAsync());
        Assert.Equal("committed", await new StreamReader(entries[Renamed].DataStream!).ReadToEndAsync());
        Assert.Equal((UnixFileMode)0x1ED, entries[Executable].Mode);
        var link = entries[Link];
        Assert.Equal(TarEntryType.SymbolicLink, link.EntryType);
        Assert.Equal(RawNames.Hex(Target), RawNames.Hex(PaxRawNames.LinkNameOf(link)));

        Assert.Equal(await RawNames.BlobOfAsync(repo.Path, "changed"), manifest.Paths[Modified].Blob);
        Assert.Equal("100755", manifest.Paths[Executable].Mode);
        Assert.Equal(await RawNames.SymlinkBlobOfAsync(repo.Path, Target), manifest.Paths[Link].Blob);
        Assert.True(manifest.Paths[Gone].IsDeleted);
        var stored = BaseManifest.FromJson(manifest.ToJson());
        Assert.Equal(manifest.Paths.Keys.Order(StringComparer.Ordinal), stored.Paths.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(manifest.Paths[Link], stored.Paths[Link]);
    }

    [Fact]
    public async Task Copy_out_writes_names_and_symlink_targets_that_are_not_utf8_byte_exact()
    {
        const string Gone = "gone\uDCFF.txt", NewFile = "n\uDCE9w/x\uDCFF.txt", Link = "l\uDCFE";
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        await RawNames.WriteAsync(repo.Path, Gone, "bye");
        await Shell.GitAsync(repo.Path, "add", "-A");
        await Shell.GitAsync(repo.Path, "commit", "-q", "-m", "one more");
        var commit = await Shell.GitAsync(repo.Path, "rev-parse", "HEAD");
        var tar = new GuestTar()
            .File(Cafe, "from the sandbox\n")
            .Directory("n\uDCE9w/")
            .File(NewFile, "new\n")
            .Symlink(Link, "t\uDCE9")
            .Whiteout(Gone)
            .Build();

        var result = await CopyOut.RunAsync(repo.Path, BaseManifest.Empty(commit), tar);

        Assert.Equal(CopyOutOutcome.Applied, result.Outcome);
        Assert.Empty(result.Conflicts);
        Assert.Equal([Cafe], result.Modified);
        Assert.Equal([Link, NewFile], result.Added);
        Assert.Equal([Gone], result.Deleted);
        var listing = await RawNames.ListAsync(repo.Path);
        Assert.Contains(NewFile, listing);
        Assert.Contains(Link, listing);
        Assert.Contains(Cafe, listing);
        Assert.DoesNotContain(Gone, listing);
        Assert.DoesNotContain(listing, path => path.Contains('\uFFFD', StringComparison.Ordinal));
        Assert.Equal("from the sandbox\n", await RawNames.ReadAsync(repo.Path, Cafe));
        Assert.Equal("new\n", await RawNames.ReadAsync(repo.Path, NewFile));
        Assert.Equal(RawNames.Hex("t\uDCE9"), await RawNames.LinkTargetHexAsync(repo.Path, Link));
        CopyOutTests.AssertNoStaging(repo);
    }

    [Fact]
    public async Task A_local_edit_of_such_a_file_made_meanwhile_is_a_conflict()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        await RawNames.WriteAsync(repo.Path, Cafe, "edited locally\n");

        var result = await CopyOut.RunAsync(repo.Path, BaseManifest.Empty(repo.Commit), new GuestTar().File(Cafe, "sandbox\n").Build());

        Assert.Equal(CopyOutOutcome.Conflicts, result.Outcome);
        var conflict = Assert.Single(result.Conflicts);
        Assert.Equal(Cafe, conflict.Path);
        Assert.Equal("changed locally", conflict.Reason);
        Assert.Equal("edited locally\n", await RawNames.ReadAsync(repo.Path, Cafe));
        CopyOutTests.AssertNoStaging(repo);
    }

    [Fact]
    public async Task A_copied_in_file_is_its_own_base_after_the_manifest_went_through_json()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        await RawNames.WriteAsync(repo.Path, Cafe, "copied in\n");
        var set = await LocalChanges.FindAsync(repo.Path, repo.Commit);
        var stored = BaseManifest.FromJson((await set.WriteTarAsync(new MemoryStream())).ToJson());

        // Against the commit alone the local edit is a conflict; the manifest says the sandbox started with it.
        var dryRun = await CopyOut.RunAsync(repo.Path, BaseManifest.Empty(repo.Commit), new GuestTar().File(Cafe, "sandbox\n").Build(), new CopyOutOptions { DryRun = true });
        var result = await CopyOut.RunAsync(repo.Path, stored, new GuestTar().File(Cafe, "sandbox\n").Build());

        Assert.Single(dryRun.Conflicts);
        Assert.Equal(CopyOutOutcome.Applied, result.Outcome);
        Assert.Equal([Cafe], result.Modified);
        Assert.Equal("sandbox\n", await RawNames.ReadAsync(repo.Path, Cafe));
    }

    [Fact]
    public async Task Workspace_diff_names_and_hashes_them_exactly()
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        var same = new GuestTar().File(Cafe, "latin1\n").File("n\uDCE9.txt", "x").Symlink("l\uDCFE", "t\uDCE9").Build();
        var changed = new GuestTar().File(Cafe, "other\n").Build();
        var deleted = new GuestTar().Whiteout(Cafe).Build();

        var first = await WorkspaceDiff.ComputeAsync(same, repo.Path, repo.Commit, TransferLimits.Default, CancellationToken.None);
        var second = await WorkspaceDiff.ComputeAsync(changed, repo.Path, repo.Commit, TransferLimits.Default, CancellationToken.None);
        var third = await WorkspaceDiff.ComputeAsync(deleted, repo.Path, repo.Commit, TransferLimits.Default, CancellationToken.None);

        Assert.Equal([new WorkspaceChange("l\uDCFE", 'A', 2), new WorkspaceChange("n\uDCE9.txt", 'A', 1)], first);
        Assert.Equal([new WorkspaceChange(Cafe, 'M', 6)], second);
        Assert.Equal([new WorkspaceChange(Cafe, 'D', 0)], third);
    }

    [Fact]
    public async Task Cp_extraction_writes_them_byte_exact()
    {
        Directory.CreateDirectory(_scratch.Combine("out"));
        var destination = _scratch.Combine("out/dest");
        var tar = new GuestTar().Directory("d\uDCE9/").File("d\uDCE9/f\uDCFF", "f\n").Symlink("l\uDCFE", "d\uDCE9/f\uDCFF").Build();

        SandboxArchive.Extract(tar, destination, TransferLimits.Default);

        Assert.Equal(["d\uDCE9", "d\uDCE9/f\uDCFF", "l\uDCFE"], (await RawNames.ListAsync(destination)).Order(StringComparer.Ordinal));
        Assert.Equal("f\n", await RawNames.ReadAsync(destination, "d\uDCE9/f\uDCFF"));
        Assert.Equal(RawNames.Hex("d\uDCE9/f\uDCFF"), await RawNames.LinkTargetHexAsync(destination, "l\uDCFE"));
    }

    public static TheoryData<string, string> HostileRecords => new()
    {
        { "bad-base64", "not base64" },
        { "nul", "NUL" },
        { "traversal", "climbs out" },
        { "traversal-after-raw-byte", "climbs out" },
        { "absolute", "absolute" },
        { "hardlink-traversal", "climbs out" },
        { "bad-link-record", "raw link target" },
        { "lossy-without-record", "not valid UTF-8" },
    };

    [Theory]
    [MemberData(nameof(HostileRecords))]
    public async Task Copy_out_refuses_a_hostile_vendor_record(string kind, string expected)
    {
        var repo = await TestRepository.CreateAsync(_scratch.Combine("repo"), files: 5);
        var before = await TreeSnapshot.TakeAsync(repo.Path);

        var ex = await Assert.ThrowsAsync<WorkspaceException>(() => CopyOut.RunAsync(
            repo.Path, BaseManifest.Empty(repo.Commit), Hostile(kind), new CopyOutOptions { Force = true }));

        Assert.Equal(WorkspaceErrorKind.RejectedArchive, ex.Kind);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, await TreeSnapshot.TakeAsync(repo.Path));
        AssertNothingEscaped();
        CopyOutTests.AssertNoStaging(repo);
    }

    [Theory]
    [MemberData(nameof(HostileRecords))]
    public async Task Cp_extraction_refuses_a_hostile_vendor_record(string kind, string expected)
    {
        Directory.CreateDirectory(_scratch.Combine("out"));

        var ex = Assert.Throws<WorkspaceException>(() => SandboxArchive.Extract(Hostile(kind), _scratch.Combine("out/dest"), TransferLimits.Default));

        Assert.Equal(WorkspaceErrorKind.RejectedArchive, ex.Kind);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Empty(await RawNames.ListAsync(_scratch.Combine("out")));
        AssertNothingEscaped();
    }

    private static MemoryStream Hostile(string kind)
    {
        static Dictionary<string, string> Raw(string key, byte[] bytes) => new() { [key] = Convert.ToBase64String(bytes) };
        var tar = new GuestTar().File("ok.txt", "fine\n");
        _ = kind switch
        {
            "bad-base64" => tar.WithRecords(TarEntryType.RegularFile, "x", new() { [PaxRawNames.PathKey] = "!!not base64!!" }),
            "nul" => tar.WithRecords(TarEntryType.RegularFile, "x", Raw(PaxRawNames.PathKey, "a\0b"u8.ToArray())),
            "traversal" => tar.WithRecords(TarEntryType.RegularFile, "x", Raw(PaxRawNames.PathKey, "../../escaped"u8.ToArray())),
            "traversal-after-raw-byte" => tar.WithRecords(TarEntryType.RegularFile, "x", Raw(PaxRawNames.PathKey, [0xFF, .. "/../../../escaped"u8])),
            "absolute" => tar.WithRecords(TarEntryType.RegularFile, "x", Raw(PaxRawNames.PathKey, Encoding.UTF8.GetBytes("/tmp/cr-rawnames-escaped\xff"))),
            "hardlink-traversal" => tar.WithRecords(TarEntryType.HardLink, "h", Raw(PaxRawNames.LinkPathKey, "../../../../etc/passwd"u8.ToArray()), linkName: "ok.txt"),
            "bad-link-record" => tar.WithRecords(TarEntryType.SymbolicLink, "l", new() { [PaxRawNames.LinkPathKey] = "%%%" }, linkName: "ok.txt"),
            // A foreign tar's lossy name: U+FFFD with no record (Cleanroom's own writers add one even for a real U+FFFD).
            "lossy-without-record" => tar.WithRecords(TarEntryType.RegularFile, "caf\uFFFD.txt", []),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        return tar.Build();
    }

    private void AssertNothingEscaped()
    {
        Assert.False(File.Exists(_scratch.Combine("escaped")));
        Assert.False(File.Exists("/tmp/cr-rawnames-escaped\u00ff"));
    }
}
