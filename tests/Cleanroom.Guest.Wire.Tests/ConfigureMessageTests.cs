using System.Text;
using Cleanroom.Guest.Wire.Framing;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Tests;

public class ConfigureMessageTests
{
    private static readonly byte[] Entropy = Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray();

    [Fact]
    public void Configure_round_trips_every_field()
    {
        var message = new ConfigureMessage("cleanroom.net=10.0.0.2/24,10.0.0.1,10.0.0.1 cleanroom.workspace=/wörk", Entropy, 1_764_000_000_123_456_789);

        var decoded = ConfigureMessage.Decode(message.Encode());

        Assert.Equal(message.Arguments, decoded.Arguments);
        Assert.Equal(Entropy, decoded.Entropy);
        Assert.Equal(message.UnixTimeNanoseconds, decoded.UnixTimeNanoseconds);
    }

    [Fact]
    public void Arguments_of_exactly_the_limit_in_bytes_are_accepted()
    {
        var arguments = new string('é', ConfigureMessage.MaxArgumentsBytes / 2); // two UTF-8 bytes each

        Assert.Equal(arguments, ConfigureMessage.Decode(new ConfigureMessage(arguments, Entropy, 1).Encode()).Arguments);
    }

    [Fact]
    public void Arguments_over_the_limit_are_refused_by_the_sender_and_the_receiver()
    {
        var arguments = new string('é', (ConfigureMessage.MaxArgumentsBytes / 2) + 1);

        Assert.Throws<ArgumentException>(() => new ConfigureMessage(arguments, Entropy, 1).Encode());
        var payload = new PayloadWriter().WriteString(arguments).WriteBytes(Entropy).WriteInt64(1).ToArray();
        var error = Assert.Throws<WireProtocolException>(() => ConfigureMessage.Decode(payload));
        Assert.Contains("exceeds the limit", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(257)]
    public void Entropy_outside_32_to_256_bytes_is_refused_by_the_sender_and_the_receiver(int length)
    {
        var entropy = new byte[length];

        Assert.Throws<ArgumentException>(() => new ConfigureMessage("", entropy, 1).Encode());
        var payload = new PayloadWriter().WriteString("").WriteBytes(entropy).WriteInt64(1).ToArray();
        Assert.Throws<WireProtocolException>(() => ConfigureMessage.Decode(payload));
    }

    [Theory]
    [InlineData(32)]
    [InlineData(256)]
    public void Entropy_at_the_bounds_is_accepted(int length)
    {
        var entropy = new byte[length];
        entropy[^1] = 9;

        Assert.Equal(entropy, ConfigureMessage.Decode(new ConfigureMessage("", entropy, 1).Encode()).Entropy);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-5L)]
    public void A_wall_clock_not_after_1970_is_refused(long time)
    {
        Assert.Throws<ArgumentException>(() => new ConfigureMessage("", Entropy, time).Encode());
        var payload = new PayloadWriter().WriteString("").WriteBytes(Entropy).WriteInt64(time).ToArray();
        Assert.Throws<WireProtocolException>(() => ConfigureMessage.Decode(payload));
    }

    [Fact]
    public void Arguments_with_nul_are_refused()
    {
        var payload = new PayloadWriter().WriteString("cleanroom.workspace=/a\0b").WriteBytes(Entropy).WriteInt64(1).ToArray();

        Assert.Throws<WireProtocolException>(() => ConfigureMessage.Decode(payload));
    }

    [Fact]
    public void Every_truncation_and_a_trailing_byte_are_refused()
    {
        var payload = new ConfigureMessage("cleanroom.mac=02:00:00:00:00:01", Entropy, 42).Encode();

        for (var length = 0; length < payload.Length; length++)
        {
            Assert.Throws<WireProtocolException>(() => ConfigureMessage.Decode(payload.AsSpan(0, length)));
        }

        Assert.Throws<WireProtocolException>(() => ConfigureMessage.Decode([.. payload, 0]));
    }

    [Fact]
    public void Configured_round_trips_success_and_error()
    {
        Assert.Equal("", ConfiguredMessage.Decode(ConfiguredMessage.Success.Encode()).Error);
        Assert.Equal("workspace: no disk", ConfiguredMessage.Decode(new ConfiguredMessage("workspace: no disk").Encode()).Error);
    }

    [Fact]
    public void A_long_configured_error_is_cut_to_the_limit_by_the_sender()
    {
        var error = new string('€', 1000); // three UTF-8 bytes each

        var decoded = ConfiguredMessage.Decode(new ConfiguredMessage(error).Encode()).Error;

        Assert.InRange(Encoding.UTF8.GetByteCount(decoded), ConfiguredMessage.MaxErrorBytes - 2, ConfiguredMessage.MaxErrorBytes);
        Assert.StartsWith(decoded, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_configured_error_over_the_limit_is_refused_by_the_receiver()
    {
        var payload = new PayloadWriter().WriteString(new string('x', ConfiguredMessage.MaxErrorBytes + 1)).ToArray();

        Assert.Throws<WireProtocolException>(() => ConfiguredMessage.Decode(payload));
        Assert.Throws<WireProtocolException>(() => ConfiguredMessage.Decode(payload.AsSpan(0, 10)));
    }
}
