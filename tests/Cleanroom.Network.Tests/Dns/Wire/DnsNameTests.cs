using Cleanroom.Network.Dns.Wire;
using static Cleanroom.Network.Tests.Dns.Wire.WireBytes;

namespace Cleanroom.Network.Tests.Dns.Wire;

/// <summary>The text of a name is unambiguous (a dot inside a label is not a separator) and comparisons ignore case.</summary>
public sealed class DnsNameTests
{
    private static DnsName Read(byte[] wire)
    {
        var reader = new DnsReader(Concat(Header(), wire), 12);
        Assert.True(reader.TryReadName(out var name));
        return name;
    }

    [Fact]
    public void Dots_backslashes_spaces_and_control_bytes_inside_labels_are_escaped()
    {
        var name = Read([7, (byte)'a', (byte)'.', (byte)'b', (byte)'\\', (byte)' ', 0x1b, 0xff, 4, (byte)'t', (byte)'e', (byte)'s', (byte)'t', 0]);

        Assert.Equal(@"a\046b\092\032\027\255.test", name.ToString());
        Assert.NotEqual(Read(Name("a.b.test")), name);
    }

    [Fact]
    public void Names_compare_without_case()
    {
        Assert.True(DnsName.TryParse("WWW.Example.COM.", out var upper));
        Assert.True(DnsName.TryParse("www.example.com", out var lower));

        Assert.Equal(lower, upper);
        Assert.Equal(lower.GetHashCode(), upper.GetHashCode());
        Assert.Equal("www.example.com", upper.ToLowerInvariant().ToString());
        Assert.Equal(Name("www.example.com"), lower.Wire.ToArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("a..b")]
    [InlineData(".a")]
    [InlineData("a b")]
    [InlineData(@"a\.b")]
    public void Text_that_is_not_a_plain_name_does_not_parse(string text)
    {
        Assert.False(DnsName.TryParse(text, out _));
    }

    [Fact]
    public void The_root_is_a_dot()
    {
        Assert.True(DnsName.TryParse(".", out var root));
        Assert.Equal(".", root.ToString());
        Assert.Equal(".", Read([0]).ToString());
    }
}
