using System.Formats.Tar;
using System.Text;
using Cleanroom.Escaping;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>workspace-changes and extract --whiteouts with names that are not valid UTF-8.</summary>
public sealed class RawNameLayerTests : IDisposable
{
    private readonly TempTree _tree = new();

    [Fact]
    public void Whiteouts_and_opaque_directories_apply_to_names_that_are_not_utf8()
    {
        var dest = Encoding.UTF8.GetBytes(_tree.Mkdir("dest"));
        RawFiles.CreateFile(RawFiles.Join(dest, RawFiles.Bytes("gone", 0xFF)));
        var opaque = RawFiles.Join(dest, RawFiles.Bytes("op", 0xE9));
        RawFiles.Mkdir(opaque);
        RawFiles.CreateFile(RawFiles.Join(opaque, RawFiles.Bytes("old", 0xFE)));
        RawFiles.CreateFile(RawFiles.Join(dest, RawFiles.Bytes("kept", 0xFF)));

        var opaqueName = RawNames.Name(RawFiles.Bytes("op", 0xE9));
        var added = PaxRawNames.Entry(TarEntryType.RegularFile, opaqueName + "/" + RawNames.Name(RawFiles.Bytes("new", 0x80)));
        added.DataStream = new MemoryStream("n"u8.ToArray());
        var tar = ToolRunner.Tar(
            PaxRawNames.Entry(TarEntryType.RegularFile, RawNames.Name(RawFiles.Bytes(".wh.gone", 0xFF))),
            PaxRawNames.Entry(TarEntryType.Directory, opaqueName),
            PaxRawNames.Entry(TarEntryType.RegularFile, opaqueName + "/.wh..wh..opq"),
            added);
        var result = ToolRunner.Run(tar, "extract", "--whiteouts", _tree.Path("dest"));

        Assert.Equal((0, ""), (result.ExitCode, result.Stderr));
        Assert.Equal(["kept\u00FF 644 file ", "op\u00E9 755 dir", "op\u00E9/new\u0080 644 file n"], RawFiles.Describe(dest));
    }

    [Fact]
    public void The_changes_to_an_overlay_with_names_that_are_not_utf8_turn_the_lower_into_the_merged_view()
    {
        var lower = Encoding.UTF8.GetBytes(_tree.Mkdir("lower"));
        RawFiles.CreateFile(RawFiles.Join(lower, RawFiles.Bytes("keep", 0xE9)), "k"u8.ToArray());
        RawFiles.CreateFile(RawFiles.Join(lower, RawFiles.Bytes("del", 0xFF)), "d"u8.ToArray());
        RawFiles.Mkdir(RawFiles.Join(lower, RawNames.Directory));
        RawFiles.CreateFile(RawFiles.Join(RawFiles.Join(lower, RawNames.Directory), RawFiles.Bytes("old", 0xFE)), "o"u8.ToArray());
        _tree.Mkdir("upper");
        _tree.Mkdir("work");
        var mergedPath = _tree.Mkdir("merged");
        var merged = Encoding.UTF8.GetBytes(mergedPath);
        Assert.True(
            LibC.Mount("overlay", mergedPath, "overlay", 0, $"lowerdir={_tree.Path("lower")},upperdir={_tree.Path("upper")},workdir={_tree.Path("work")}") == 0,
            $"mount overlay: {Errno.DescribeLast()}");
        ToolResult changes;
        List<string> mergedView;
        try
        {
            RawFiles.Unlink(RawFiles.Join(merged, RawFiles.Bytes("del", 0xFF)));
            var directory = RawFiles.Join(merged, RawNames.Directory);
            Assert.Equal(0, ToolRunner.Run("remove", "-r", FileNameBytes.Decode(directory)).ExitCode);
            RawFiles.Mkdir(directory); // over a removed lower directory: opaque
            RawFiles.CreateFile(RawFiles.Join(directory, RawNames.Continuation), "c"u8.ToArray());
            RawFiles.CreateFile(RawFiles.Join(merged, RawNames.Invalid), "new"u8.ToArray());
            RawFiles.Symlink(RawNames.Cafe, RawFiles.Join(merged, RawFiles.Bytes("ln", 0xFF)));

            changes = ToolRunner.Run("workspace-changes", _tree.Path("lower"), _tree.Path("upper"));
            mergedView = RawFiles.Describe(merged);
        }
        finally
        {
            Assert.Equal(0, LibC.Umount2(mergedPath, 0));
        }

        Assert.Equal((0, ""), (changes.ExitCode, changes.Stderr));
        var names = RawNames.ExactEntries(changes.Stdout).Select(e => FileNameBytes.Encode(e.Name)).Select(Encoding.Latin1.GetString).ToList();
        Assert.Contains(".wh.del\u00FF", names);
        Assert.Contains("d\u00C3/.wh..wh..opq", names);
        Assert.Contains("d\u00C3/x\u0080y", names);
        Assert.Contains("ln\u00FF", names);

        var copy = _tree.Path("copy");
        var lowerArchive = ToolRunner.Run("archive", "--base", _tree.Path("lower"), _tree.Path("lower"));
        Assert.Equal(0, ToolRunner.Run(lowerArchive.Stdout, "extract", copy).ExitCode);
        var applied = ToolRunner.Run(changes.Stdout, "extract", "--whiteouts", copy);
        Assert.Equal((0, ""), (applied.ExitCode, applied.Stderr));
        Assert.Equal(mergedView, RawFiles.Describe(Encoding.UTF8.GetBytes(copy)));
    }

    public void Dispose() => _tree.Dispose();
}
