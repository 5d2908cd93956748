using Cleanroom.Guest.Wire.Framing;

namespace Cleanroom.Guest.Wire.Messages;

/// <summary>
/// The handshake. The host sends a random nonce; the guest must echo it, which proves the answer belongs to this
/// connection and that the peer speaks this protocol (the magic rules out a console or a stray byte stream).
/// </summary>
public sealed record HelloMessage(ushort Version, ulong Nonce, int MaxFramePayload, int InitialWindow, string Software)
{
    public const uint Magic = 0x434C524D; // "CLRM"
    // 2: processes outlive their host's connection (Resume, Resumed, Release; window granted once output is stored).
    public const ushort CurrentVersion = 2;

    public byte[] Encode() => new PayloadWriter()
        .WriteUInt32(Magic)
        .WriteUInt16(Version)
        .WriteUInt64(Nonce)
        .WriteUInt32((uint)MaxFramePayload)
        .WriteUInt32((uint)InitialWindow)
        .WriteString(Software)
        .ToArray();

    public static HelloMessage Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload, "hello");
        if (reader.ReadUInt32() != Magic)
        {
            throw new WireProtocolException("hello: bad magic (the peer does not speak the cleanroom guest protocol)");
        }

        var version = reader.ReadUInt16();
        var nonce = reader.ReadUInt64();
        var maxFrame = reader.ReadUInt32();
        var window = reader.ReadUInt32();
        var software = reader.ReadString();
        reader.EnsureEnd();
        if (maxFrame is < 1024 or > 16 * 1024 * 1024 || window is < 1024 or > 64 * 1024 * 1024)
        {
            throw new WireProtocolException($"hello: implausible limits (frame {maxFrame}, window {window})");
        }

        if (software.Length > 256)
        {
            throw new WireProtocolException("hello: software string too long");
        }

        return new HelloMessage(version, nonce, (int)maxFrame, (int)window, software);
    }
}
