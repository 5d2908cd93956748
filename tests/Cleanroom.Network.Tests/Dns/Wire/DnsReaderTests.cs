using Cleanroom.Network.Dns.Wire;
using static Cleanroom.Network.Tests.Dns.Wire.WireBytes;

namespace Cleanroom.Network.Tests.Dns.Wire;

/// <summary>Names in hostile messages: compression pointers, label types and lengths, truncation.</summary>
public sealed class DnsReaderTests
{
    private static bool TryReadNameAt(byte[] message, int position, out DnsName name, out int end)
    {
        var reader = new DnsReader(message, position);
        var ok = reader.TryReadName(out name);
        end = reader.Position;
        return ok;
    }

    [Fact]
    public void Reads_a_plain_name_and_stops_after_it()
    {
        var message = Concat(Header(), Name("www.Example.com"), [0xAA]);

        Assert.True(TryReadNameAt(message, 12, out var name, out var end));
        Assert.Equal("www.Example.com", name.ToString());
        Assert.Equal(message.Length - 1, end);
    }

    [Fact]
    public void Follows_a_pointer_back_and_resumes_after_the_pointer()
    {
        // "example.com" at 12, then "www" + pointer to it.
        var message = Concat(Header(), Name("example.com"), [3, (byte)'w', (byte)'w', (byte)'w'], Pointer(12), [0xAA]);
        var second = 12 + Name("example.com").Length;

        Assert.True(TryReadNameAt(message, second, out var name, out var end));
        Assert.Equal("www.example.com", name.ToString());
        Assert.Equal(second + 6, end);
    }

    [Fact]
    public void A_pointer_to_itself_is_refused()
    {
        var message = Concat(Header(), Pointer(12));

        Assert.False(TryReadNameAt(message, 12, out _, out _));
    }

    [Fact]
    public void A_loop_through_two_pointers_is_refused()
    {
        // At 12: label "a" then a pointer to 16; at 16: label "b" then a pointer back to 12.
        var message = Concat(Header(), [1, (byte)'a'], Pointer(16), [1, (byte)'b'], Pointer(12));

        Assert.False(TryReadNameAt(message, 16, out _, out _));
        Assert.False(TryReadNameAt(message, 12, out _, out _));
    }

    [Fact]
    public void Forward_pointers_and_pointers_past_the_end_are_refused()
    {
        var forward = Concat(Header(), Pointer(14), Name("a"));
        var pastEnd = Concat(Header(), Name("a"), Pointer(0x3FFF));

        Assert.False(TryReadNameAt(forward, 12, out _, out _));
        Assert.False(TryReadNameAt(pastEnd, 15, out _, out _));
    }

    [Fact]
    public void Pointers_into_the_header_are_refused()
    {
        // The header's id bytes happen to spell a one-byte label ending in a zero: still never a name.
        var message = Concat(Header(id: 0x0141, flags: 0x0000), Name("x"), Pointer(0));

        Assert.False(TryReadNameAt(message, 12 + 3, out _, out _));
    }

    [Fact]
    public void Chains_of_pointers_are_bounded()
    {
        // A name at 12, then pointers each pointing at the one before: strictly backwards, but too many to follow.
        static byte[] Chain(int pointers)
        {
            var parts = new List<byte[]> { Header(), Name("a") };
            var previous = 12;
            var at = 12 + 3;
            for (var i = 0; i < pointers; i++)
            {
                parts.Add(Pointer(previous));
                previous = at;
                at += 2;
            }

            return Concat([.. parts]);
        }

        var allowed = Chain(DnsReader.MaxPointers);
        var tooMany = Chain(DnsReader.MaxPointers + 1);

        Assert.True(TryReadNameAt(allowed, allowed.Length - 2, out var name, out _));
        Assert.Equal("a", name.ToString());
        Assert.False(TryReadNameAt(tooMany, tooMany.Length - 2, out _, out _));
    }

    [Theory]
    [InlineData(new byte[] { 3, (byte)'a', (byte)'b' })]
    [InlineData(new byte[] { 1, (byte)'a' })]
    [InlineData(new byte[] { 0xC0 })]
    [InlineData(new byte[] { })]
    public void Truncated_names_are_refused(byte[] name)
    {
        Assert.False(TryReadNameAt(Concat(Header(), name), 12, out _, out _));
    }

    [Theory]
    [InlineData(0x40)]
    [InlineData(0x80)]
    [InlineData(0x7F)]
    public void Extended_and_reserved_label_types_are_refused(byte first)
    {
        Assert.False(TryReadNameAt(Concat(Header(), [first, 0, 0, 0], Name("a")), 12, out _, out _));
    }

    [Fact]
    public void Names_are_at_most_255_bytes_however_they_are_assembled()
    {
        var label63 = new string('x', 63);
        var longest = $"{label63}.{label63}.{label63}.{new string('y', 61)}";
        var tooLong = $"{label63}.{label63}.{label63}.{new string('y', 62)}";

        Assert.True(TryReadNameAt(Concat(Header(), Name(longest)), 12, out var name, out _));
        Assert.Equal(255, name.Wire.Length);
        Assert.False(TryReadNameAt(Concat(Header(), Name(tooLong)), 12, out _, out _));

        // 192 bytes of labels, then a pointer to another 128: too long only once the pointer is followed.
        var tail = Name($"{label63}.{label63}");
        var head = Concat([63], System.Text.Encoding.ASCII.GetBytes(label63), [63], System.Text.Encoding.ASCII.GetBytes(label63),
            [63], System.Text.Encoding.ASCII.GetBytes(label63), Pointer(12));
        Assert.False(TryReadNameAt(Concat(Header(), tail, head), 12 + tail.Length, out _, out _));
    }

    [Fact]
    public void Numbers_past_the_end_are_refused()
    {
        var reader = new DnsReader([1, 2, 3], 0);

        Assert.True(reader.TryReadUInt16(out var value));
        Assert.Equal(0x0102, value);
        Assert.False(reader.TryReadUInt16(out _));
        Assert.False(reader.TryReadUInt32(out _));
        Assert.False(reader.TryReadBytes(2, out _));
        Assert.True(reader.TryReadBytes(1, out _));
    }
}
