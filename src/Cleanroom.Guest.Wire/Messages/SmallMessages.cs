using Cleanroom.Guest.Wire.Framing;

namespace Cleanroom.Guest.Wire.Messages;

/// <summary>Signal number to deliver (1..64).</summary>
public sealed record SignalMessage(int Signal)
{
    public byte[] Encode() => new PayloadWriter().WriteInt32(Signal).ToArray();

    public static SignalMessage Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload, "signal");
        var signal = reader.ReadInt32();
        reader.EnsureEnd();
        return signal is < 1 or > 64 ? throw new WireProtocolException($"signal: {signal} is not a signal number") : new SignalMessage(signal);
    }
}

/// <summary>Terminal size in character cells.</summary>
public sealed record ResizeMessage(ushort Cols, ushort Rows)
{
    public byte[] Encode() => new PayloadWriter().WriteUInt16(Cols).WriteUInt16(Rows).ToArray();

    public static ResizeMessage Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload, "resize");
        var message = new ResizeMessage(reader.ReadUInt16(), reader.ReadUInt16());
        reader.EnsureEnd();
        return message;
    }
}

/// <summary>More bytes the receiver of a stream's data is ready to take.</summary>
public sealed record WindowUpdateMessage(uint Increment)
{
    public byte[] Encode() => new PayloadWriter().WriteUInt32(Increment).ToArray();

    public static WindowUpdateMessage Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload, "window update");
        var increment = reader.ReadUInt32();
        reader.EnsureEnd();
        return increment is 0 or > int.MaxValue ? throw new WireProtocolException($"window update: bad increment {increment}") : new WindowUpdateMessage(increment);
    }
}

/// <summary>The guest started the process with this pid.</summary>
public sealed record StartedMessage(int Pid)
{
    public byte[] Encode() => new PayloadWriter().WriteInt32(Pid).ToArray();

    public static StartedMessage Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload, "started");
        var pid = reader.ReadInt32();
        reader.EnsureEnd();
        return pid <= 0 ? throw new WireProtocolException($"started: bad pid {pid}") : new StartedMessage(pid);
    }
}

/// <summary>A protocol error report; on stream 0 the connection ends after it.</summary>
public sealed record ErrorMessage(string Message)
{
    public byte[] Encode() => new PayloadWriter().WriteString(Message.Length > 4096 ? Message[..4096] : Message).ToArray();

    public static ErrorMessage Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload, "error");
        var message = reader.ReadString();
        reader.EnsureEnd();
        return message.Length > 4096 ? throw new WireProtocolException("error: message too long") : new ErrorMessage(message);
    }
}
