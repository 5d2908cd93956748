namespace Cleanroom.Guest.Wire.Framing;

/// <summary>One decoded frame. The payload array belongs to the frame (it is never reused).</summary>
public sealed record Frame(FrameType Type, uint StreamId, ReadOnlyMemory<byte> Payload);
