using Cleanroom.Guest.Wire.Framing;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Tests;

public class MessageCodecTests
{
    [Fact]
    public void Exec_request_round_trips_every_field()
    {
        var request = new ExecRequest { Argv = ["sh", "-c", "echo ü"], Env = ["A=1", "B="], Cwd = "/work", User = "1000:1000", Tty = true, Cols = 120, Rows = 40 };

        var decoded = ExecRequest.Decode(request.Encode(), WireLimits.Default);

        Assert.Equal(request.Argv, decoded.Argv);
        Assert.Equal(request.Env, decoded.Env);
        Assert.Equal(("/work", "1000:1000", true, (ushort)120, (ushort)40), (decoded.Cwd, decoded.User, decoded.Tty, decoded.Cols, decoded.Rows));
    }

    [Fact]
    public void Exec_request_tool_flag_round_trips_as_bit_0x02()
    {
        var request = new ExecRequest { Argv = ["stat", "/etc/passwd"], Cwd = "/", User = "nobody", Tool = true };

        var payload = request.Encode();
        var decoded = ExecRequest.Decode(payload, WireLimits.Default);

        Assert.Equal(0x02, payload[^5]); // flags, then cols and rows (two bytes each)
        Assert.True(decoded.Tool);
        Assert.False(decoded.Tty);
        Assert.Equal(request.Argv, decoded.Argv);
        Assert.False(ExecRequest.Decode(new ExecRequest { Argv = ["true"] }.Encode(), WireLimits.Default).Tool);
    }

    [Fact]
    public void Exec_request_tool_on_a_terminal_is_rejected()
    {
        var payload = new ExecRequest { Argv = ["archive", "x"], Tool = true, Tty = true }.Encode();

        var error = Assert.Throws<WireProtocolException>(() => ExecRequest.Decode(payload, WireLimits.Default));
        Assert.Contains("terminal", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x04)]
    [InlineData(0x80)]
    [InlineData(0x06)]
    public void Exec_request_unknown_flag_bits_are_rejected(byte flags)
    {
        var payload = new ExecRequest { Argv = ["true"] }.Encode();
        payload[^5] = flags;

        var error = Assert.Throws<WireProtocolException>(() => ExecRequest.Decode(payload, WireLimits.Default));
        Assert.Contains("unknown flags", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 9, 137)]
    [InlineData(7, 0, 7)]
    [InlineData(0, 2, 130)]
    public void Exit_reports_shell_exit_code(int code, int signal, int expected)
    {
        var decoded = ExitMessage.Decode(new ExitMessage(code, signal, "").Encode());

        Assert.Equal(expected, decoded.ShellExitCode);
    }

    [Fact]
    public void Exec_with_empty_argv_is_rejected()
    {
        var payload = new ExecRequest { Argv = [] }.Encode();

        var error = Assert.Throws<WireProtocolException>(() => ExecRequest.Decode(payload, WireLimits.Default));
        Assert.Contains("empty argv", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Env_entry_without_equals_is_rejected()
    {
        var payload = new ExecRequest { Argv = ["true"], Env = ["NOVALUE"] }.Encode();

        Assert.Throws<WireProtocolException>(() => ExecRequest.Decode(payload, WireLimits.Default));
    }

    [Fact]
    public void List_count_larger_than_the_payload_is_rejected_without_allocating_it()
    {
        // A billion entries must not turn into a billion-element array when the payload holds four bytes.
        var payload = new PayloadWriter().WriteUInt32(1_000_000_000).ToArray();

        var error = Assert.Throws<WireProtocolException>(() => ExecRequest.Decode(payload, WireLimits.Default with { MaxListEntries = int.MaxValue }));
        Assert.Contains("does not fit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Header_claiming_a_huge_payload_is_rejected()
    {
        var header = new byte[FrameHeader.Size];
        new FrameHeader(int.MaxValue, FrameType.Stdout, 1).Write(header);

        var error = Assert.Throws<WireProtocolException>(() => FrameHeader.Parse(header, 65536));
        Assert.Contains("exceeds the limit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_frame_type_is_rejected()
    {
        var header = new byte[FrameHeader.Size];
        new FrameHeader(0, (FrameType)200, 1).Write(header);

        Assert.Throws<WireProtocolException>(() => FrameHeader.Parse(header, 65536));
    }

    [Fact]
    public void Hello_with_wrong_magic_is_rejected()
    {
        var payload = new HelloMessage(1, 42, 65536, 262144, "x").Encode();
        payload[0] ^= 0xFF;

        Assert.Throws<WireProtocolException>(() => HelloMessage.Decode(payload));
    }

    [Fact]
    public void Invalid_utf8_string_is_rejected()
    {
        var payload = new PayloadWriter().WriteUInt32(1).WriteUInt32(2).WriteByte(0xC3).WriteByte(0x28).ToArray();

        Assert.Throws<WireProtocolException>(() => new PayloadReader(payload, "t").ReadStringList(10));
    }

    [Fact]
    public void Resume_round_trips_and_refuses_repeated_zero_or_too_many_streams()
    {
        var message = new ResumeMessage([new ResumeEntry(3, 12), new ResumeEntry(9, 0)]);
        Assert.Equal(message.Entries, ResumeMessage.Decode(message.Encode(), 256).Entries);

        Assert.Throws<WireProtocolException>(() => ResumeMessage.Decode(new ResumeMessage([new ResumeEntry(3, 1), new ResumeEntry(3, 2)]).Encode(), 256));
        Assert.Throws<WireProtocolException>(() => ResumeMessage.Decode(new ResumeMessage([new ResumeEntry(0, 1)]).Encode(), 256));
        Assert.Throws<WireProtocolException>(() => ResumeMessage.Decode(new ResumeMessage([new ResumeEntry(1, -1)]).Encode(), 256));

        // The count is checked before anything is allocated for it.
        var huge = new PayloadWriter().WriteUInt32(uint.MaxValue).ToArray();
        Assert.Throws<WireProtocolException>(() => ResumeMessage.Decode(huge, 256));
    }

    [Fact]
    public void Resumed_refuses_more_entries_than_asked_and_overlong_reasons()
    {
        var answer = new ResumedMessage([new ResumedEntry(3, true, 77, ""), new ResumedEntry(4, false, 0, "gone")]);
        Assert.Equal(answer.Entries, ResumedMessage.Decode(answer.Encode(), 2).Entries);
        Assert.Throws<WireProtocolException>(() => ResumedMessage.Decode(answer.Encode(), 1));
        var longReason = new ResumedMessage([new ResumedEntry(3, false, 0, new string('x', ResumedEntry.MaxReasonBytes + 1))]);
        Assert.Throws<WireProtocolException>(() => ResumedMessage.Decode(longReason.Encode(), 1));
    }
}
