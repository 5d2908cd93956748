using System.Formats.Tar;
using System.Text;
using Cleanroom.Escaping;
using Cleanroom.GuestAgent.Tools;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>archive → extract keeps names and link targets whose bytes are not UTF-8, byte for byte.</summary>
public sealed class RawNameArchiveTests : IDisposable
{
    private readonly TempTree _tree = new();

    [Fact]
    public void Names_and_link_targets_that_are_not_utf8_round_trip_byte_for_byte()
    {
        var source = Encoding.UTF8.GetBytes(_tree.Mkdir("source"));
        RawFiles.CreateFile(RawFiles.Join(source, RawNames.Cafe), [0x6C, 0xE9, 0xFF], mode: 0x1A0); // 0640
        RawFiles.CreateFile(RawFiles.Join(source, RawNames.Invalid), [0xFF, 0x00, 0xFE], mode: 0x1ED); // 0755
        RawFiles.CreateFile(RawFiles.Join(source, RawNames.Truncated));
        RawFiles.CreateFile(RawFiles.Join(source, RawNames.LiteralReplacement), "lit"u8.ToArray());
        RawFiles.CreateFile(RawFiles.Join(source, "plain.txt"u8.ToArray()), "plain"u8.ToArray());
        var directory = RawFiles.Join(source, RawNames.Directory);
        RawFiles.Mkdir(directory, 0x1E8); // 0750
        RawFiles.CreateFile(RawFiles.Join(directory, RawNames.Continuation), "inner"u8.ToArray());
        RawFiles.Symlink(RawNames.Cafe, RawFiles.Join(source, RawFiles.Bytes("ln", 0xFF)));
        RawFiles.Symlink(RawFiles.Bytes("../", 0xFE, (byte)'/', (byte)'a'), RawFiles.Join(source, "up"u8.ToArray()));
        RawFiles.HardLink(RawFiles.Join(source, RawNames.Cafe), RawFiles.Join(source, RawFiles.Bytes("hard", 0xE9)));

        var archive = ToolRunner.Run("archive", "--base", _tree.Path("source"), _tree.Path("source"));

        Assert.Equal((0, ""), (archive.ExitCode, archive.Stderr));
        var entries = RawNames.ExactEntries(archive.Stdout);
        Assert.Contains((RawNames.Name(RawNames.Cafe), TarEntryType.RegularFile, ""), entries);
        Assert.Contains((RawNames.Name(RawFiles.Bytes("hard", 0xE9)), TarEntryType.HardLink, RawNames.Name(RawNames.Cafe)), entries);
        Assert.Contains((RawNames.Name(RawFiles.Bytes("ln", 0xFF)), TarEntryType.SymbolicLink, RawNames.Name(RawNames.Cafe)), entries);
        Assert.Contains((RawNames.Name(RawFiles.Join(RawNames.Directory, RawNames.Continuation)), TarEntryType.RegularFile, ""), entries);

        // Other tar readers see U+FFFD where the bytes were; the vendor records carry the bytes.
        var plain = ToolRunner.Entries(archive.Stdout).Select(e => e.Name).ToList();
        Assert.Contains("caf\uFFFD", plain);
        Assert.Contains("plain.txt", plain);

        var target = _tree.Path("target");
        var extract = ToolRunner.Run(archive.Stdout, "extract", target);

        Assert.Equal((0, ""), (extract.ExitCode, extract.Stderr));
        var copy = Encoding.UTF8.GetBytes(target);
        Assert.Equal(RawFiles.Describe(source), RawFiles.Describe(copy));
        Assert.Equal(10, RawFiles.Describe(copy).Count);
        Assert.True(RawFiles.TryStat(RawFiles.Join(copy, RawNames.Cafe), out var first));
        Assert.True(RawFiles.TryStat(RawFiles.Join(copy, RawFiles.Bytes("hard", 0xE9)), out var second));
        Assert.Equal(first.Ino, second.Ino);
    }

    [Fact]
    public void A_name_that_is_not_utf8_can_be_archived_alone_by_its_path_and_removed()
    {
        _tree.Write("ws/ok", "ok");
        var raw = RawFiles.Bytes(_tree.Path("ws") + "/bad-", 0xFF, 0xFE);
        RawFiles.CreateFile(raw, "bad"u8.ToArray());

        var whole = ToolRunner.Run("archive", "--base", _tree.Path("ws"), _tree.Path("ws"));
        Assert.Equal((0, ""), (whole.ExitCode, whole.Stderr));
        Assert.Equal([RawNames.Name(RawFiles.Bytes("bad-", 0xFF, 0xFE)), "ok"], RawNames.ExactEntries(whole.Stdout).Select(e => e.Name));

        var alone = ToolRunner.Run("archive", "--base", _tree.Path("ws"), FileNameBytes.Decode(raw));
        Assert.Equal((0, ""), (alone.ExitCode, alone.Stderr));
        var entry = Assert.Single(ToolRunner.Entries(alone.Stdout));
        Assert.Equal(("bad-\uFFFD\uFFFD", "bad"), (entry.Name, entry.Content));

        Assert.Equal(0, ToolRunner.Run("remove", "-r", _tree.Path("ws")).ExitCode);
        Assert.False(RawFiles.Exists(raw));
    }

    [Fact]
    public void A_lossy_name_from_a_foreign_tar_is_refused_but_the_same_name_with_its_record_is_written()
    {
        var dest = _tree.Path("dest");

        var lossy = ToolRunner.Run(ToolRunner.Tar(ToolRunner.File("bad-\uFFFD", "x")), "extract", dest);
        Assert.Equal(1, lossy.ExitCode);
        Assert.Contains("not valid UTF-8", lossy.Stderr, StringComparison.Ordinal);
        Assert.Empty(RawFiles.List(Encoding.UTF8.GetBytes(dest)));

        var lossyLink = ToolRunner.Run(ToolRunner.Tar(ToolRunner.Symlink("link", "to-\uFFFD")), "extract", dest);
        Assert.Equal(1, lossyLink.ExitCode);
        Assert.Contains("not valid UTF-8", lossyLink.Stderr, StringComparison.Ordinal);

        var named = PaxRawNames.Entry(TarEntryType.RegularFile, RawNames.Name(RawFiles.Bytes("bad-", 0xFF)));
        named.DataStream = new MemoryStream("x"u8.ToArray());
        var link = PaxRawNames.Entry(TarEntryType.SymbolicLink, "link", RawNames.Name(RawFiles.Bytes("to-", 0xFE)));
        var exact = ToolRunner.Run(ToolRunner.Tar(named, link), "extract", dest);
        Assert.Equal((0, ""), (exact.ExitCode, exact.Stderr));
        Assert.Equal(
            [$"bad-\u00FF 644 file x", "link 777 link to-\u00FE"],
            RawFiles.Describe(Encoding.UTF8.GetBytes(dest)));
    }

    public void Dispose() => _tree.Dispose();
}
