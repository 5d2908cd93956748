using System.Formats.Tar;
using System.Text;
using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Tests.Tools;

/// <summary>The vendor records that carry raw names are hostile input like any entry name.</summary>
public sealed class RawNameSafetyTests : IDisposable
{
    private readonly TempTree _tree = new();

    [Theory]
    [InlineData("not base64", "not base64")]
    [InlineData("empty", "empty")]
    [InlineData("nul", "NUL")]
    [InlineData("climbs", "outside")]
    [InlineData("climbs-later", "outside")]
    [InlineData("absolute", "outside")]
    [InlineData("too long", "longer than")]
    public void A_hostile_name_record_is_refused_and_nothing_is_written(string kind, string reason)
    {
        var outside = _tree.Path("outside-x");
        var value = kind switch
        {
            "not base64" => "%%%not-base64%%%",
            "empty" => "",
            "nul" => Convert.ToBase64String("a\0b"u8),
            "climbs" => Convert.ToBase64String(RawFiles.Bytes("../outside-x")),
            "climbs-later" => Convert.ToBase64String(RawFiles.Bytes("a/", 0xFF, (byte)'/', (byte)'.', (byte)'.', (byte)'/', (byte)'.', (byte)'.', (byte)'/', (byte)'o')),
            "absolute" => Convert.ToBase64String(RawFiles.Bytes(outside, 0xFF)),
            _ => Convert.ToBase64String(new byte[PaxRawNames.MaxBytes + 4]),
        };
        var entry = RawNames.WithRecord(TarEntryType.RegularFile, "innocent", PaxRawNames.PathKey, value, "evil");

        var result = ToolRunner.Run(ToolRunner.Tar(entry), "extract", _tree.Path("dest"));

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("refusing entry ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(reason, result.Stderr, StringComparison.Ordinal);
        Assert.Empty(RawFiles.List(Encoding.UTF8.GetBytes(_tree.Path("dest"))));
        Assert.Equal(["dest"], RawFiles.List(Encoding.UTF8.GetBytes(_tree.Root)).Select(Encoding.Latin1.GetString));
    }

    [Fact]
    public void A_hostile_link_record_is_refused()
    {
        var bad = RawNames.WithRecord(TarEntryType.SymbolicLink, "link", PaxRawNames.LinkPathKey, "%%%");
        bad.LinkName = "harmless";

        var result = ToolRunner.Run(ToolRunner.Tar(bad), "extract", _tree.Path("dest"));

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("refusing link target of link: ", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(RawFiles.List(Encoding.UTF8.GetBytes(_tree.Path("dest"))));
    }

    [Fact]
    public void A_hard_link_record_must_name_an_earlier_entry()
    {
        _tree.Write("secret", "s");
        var link = RawNames.WithRecord(TarEntryType.HardLink, "copy", PaxRawNames.LinkPathKey, Convert.ToBase64String("../secret"u8));
        link.LinkName = "harmless";

        var result = ToolRunner.Run(ToolRunner.Tar(link), "extract", _tree.Path("dest"));

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("refusing hard link copy -> ../secret", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(RawFiles.List(Encoding.UTF8.GetBytes(_tree.Path("dest"))));
    }

    [Fact]
    public void A_refused_name_shows_its_bytes_escaped()
    {
        var value = Convert.ToBase64String(RawFiles.Bytes("../", 0xFF, (byte)'\n'));
        var entry = RawNames.WithRecord(TarEntryType.RegularFile, "innocent", PaxRawNames.PathKey, value);

        var result = ToolRunner.Run(ToolRunner.Tar(entry), "extract", _tree.Path("dest"));

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith(@"refusing entry ../\xff\n: it would land outside", result.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _tree.Dispose();
}
