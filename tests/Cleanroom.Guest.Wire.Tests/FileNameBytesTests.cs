using System.Formats.Tar;
using System.Runtime.InteropServices;
using Cleanroom.Escaping;

namespace Cleanroom.Guest.Wire.Tests;

/// <summary>
/// File names as bytes, shared by the guest agent and the host: every byte string survives the trip through a .NET
/// string, the libc marshaller passes the bytes themselves, and the tar vendor records carry them between the two.
/// </summary>
public sealed class FileNameBytesTests
{
    public static TheoryData<byte[]> Names => new()
    {
        "plain.txt"u8.ToArray(),
        "caf\u00e9 \u2603 \U0001F600"u8.ToArray(),
        new byte[] { 0x6c, 0x61, 0x74, 0x69, 0x6e, 0xe9, 0x2e, 0x74, 0x78, 0x74 }, // latin-1 "latiné.txt"
        new byte[] { 0xff, 0xfe, 0x80, 0x2f, 0xc3 }, // stray bytes, a slash, a truncated sequence
        new byte[] { 0xed, 0xa0, 0x80 }, // a surrogate encoded as UTF-8 (invalid)
        new byte[] { 0xf0, 0x9f, 0x98 }, // a four-byte sequence cut short
        new byte[] { 0xc0, 0xaf }, // an overlong slash
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_byte_string_round_trips(byte[] bytes)
    {
        var name = FileNameBytes.Decode(bytes);

        Assert.Equal(bytes, FileNameBytes.Encode(name));
        Assert.Equal(!System.Text.Unicode.Utf8.IsValid(bytes), FileNameBytes.HasEscapedBytes(name));
    }

    [Fact]
    public void Valid_utf8_decodes_as_usual_and_a_slash_stays_a_slash()
    {
        Assert.Equal("caf\u00e9", FileNameBytes.Decode("caf\u00e9"u8));
        var name = FileNameBytes.Decode([0x61, 0xff, 0x2f, 0x62]);
        Assert.Equal(["a\uDCFF", "b"], name.Split('/'));
    }

    [Fact]
    public void A_lone_surrogate_that_is_no_escaped_byte_is_refused()
    {
        Assert.Throws<ArgumentException>(() => FileNameBytes.Encode("a\uD800b"));
        Assert.Throws<ArgumentException>(() => FileNameBytes.Encode("a\uDC10b"));
    }

    [Fact]
    public unsafe void The_marshaller_hands_libc_the_raw_bytes_and_refuses_nul()
    {
        var name = FileNameBytes.Decode([0x78, 0xfe, 0x79]);
        var native = FileNameMarshaller.ConvertToUnmanaged(name);
        try
        {
            Assert.Equal(new byte[] { 0x78, 0xfe, 0x79 }, MemoryMarshal.CreateReadOnlySpanFromNullTerminated(native).ToArray());
            Assert.Equal(name, FileNameMarshaller.ConvertToManaged(native));
        }
        finally
        {
            FileNameMarshaller.Free(native);
        }

        Assert.Throws<ArgumentException>(() => FileNameMarshaller.ConvertToUnmanaged("a\0b"));
    }

    [Fact]
    public void Escaped_bytes_show_as_the_bytes_they_are()
    {
        Assert.Equal("a\\xffb", UntrustedText.Escape(FileNameBytes.Decode([0x61, 0xff, 0x62])));
    }

    [Fact]
    public void A_tar_entry_carries_a_raw_name_and_link_through_vendor_records()
    {
        var name = FileNameBytes.Decode([0x64, 0x2f, 0xe9, 0x2e, 0x74]);
        var target = FileNameBytes.Decode([0x74, 0xff]);
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(PaxRawNames.Entry(TarEntryType.SymbolicLink, name, target));
            writer.WriteEntry(PaxRawNames.Entry(TarEntryType.RegularFile, "plain"));
        }

        tar.Position = 0;
        using var reader = new TarReader(tar);
        var link = reader.GetNextEntry()!;
        Assert.Contains('\uFFFD', link.Name); // other tar tools see a lossy name
        Assert.Equal(name, PaxRawNames.NameOf(link));
        Assert.Equal(target, PaxRawNames.LinkNameOf(link));
        var plain = (PaxTarEntry)reader.GetNextEntry()!;
        Assert.Equal("plain", PaxRawNames.NameOf(plain));
        Assert.DoesNotContain(PaxRawNames.PathKey, plain.ExtendedAttributes.Keys);
    }

    [Fact]
    public void A_name_that_really_holds_the_replacement_character_gets_a_record()
    {
        // Readers refuse a U+FFFD name without a record (from a foreign tar it means lost bytes), so ours carry one.
        var records = PaxRawNames.RecordsFor("odd\uFFFD.txt", null);
        Assert.Equal("odd\uFFFD.txt", FileNameBytes.Decode(Convert.FromBase64String(records![PaxRawNames.PathKey])));
        Assert.Null(PaxRawNames.RecordsFor("plain", "target"));
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("")]
    [InlineData("YQBi")] // "a\0b"
    public void A_bad_vendor_record_is_refused(string value)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, "x", new Dictionary<string, string> { [PaxRawNames.PathKey] = value });
        Assert.Throws<InvalidDataException>(() => PaxRawNames.NameOf(entry));
    }

    [Fact]
    public void An_oversized_vendor_record_is_refused()
    {
        var value = Convert.ToBase64String(new byte[PaxRawNames.MaxBytes + 1].Select(_ => (byte)0x61).ToArray());
        var entry = new PaxTarEntry(TarEntryType.RegularFile, "x", new Dictionary<string, string> { [PaxRawNames.PathKey] = value });
        Assert.Throws<InvalidDataException>(() => PaxRawNames.NameOf(entry));
    }
}
