using System.Buffers.Binary;

namespace Cleanroom.Network.Guard;

/// <summary>
/// Reads the server name out of a TLS ClientHello (RFC 8446 §4.1.2, RFC 6066 §3) without decrypting anything: the
/// ClientHello is sent in the clear. Strict and bounded: the handshake may span several handshake records, but every
/// length must agree with the ones around it, no extension may appear twice, and the server_name extension must hold
/// exactly one host_name. Whatever does not fit is <see cref="FirstMessageKind.Malformed"/>, never guessed at.
/// </summary>
internal static class ClientHelloParser
{
    /// <summary>The largest record fragment TLS allows (2^14).</summary>
    public const int MaxRecordLength = 16384;

    private const byte HandshakeRecord = 22;
    private const byte ClientHelloType = 1;
    private const ushort ServerNameExtension = 0;
    private const byte HostNameType = 0;

    /// <summary>
    /// Classifies <paramref name="data"/>, the bytes the guest sent so far, which start with a handshake record.
    /// <paramref name="maxHandshakeLength"/> bounds the ClientHello's own length field.
    /// </summary>
    public static FirstMessage Parse(ReadOnlySpan<byte> data, int maxHandshakeLength)
    {
        // The handshake message is the concatenation of the records' fragments; bounded by maxHandshakeLength + 4.
        var handshake = new byte[Math.Min(data.Length, maxHandshakeLength + 4)];
        var have = 0;
        var offset = 0;
        while (true)
        {
            var rest = data[offset..];
            if (rest.Length >= 1 && rest[0] != HandshakeRecord)
            {
                return FirstMessage.Malformed("a record other than a handshake before the ClientHello was complete");
            }

            if (rest.Length >= 2 && rest[1] != 3)
            {
                return FirstMessage.Malformed("a record version that is not TLS");
            }

            if (rest.Length < 5)
            {
                return FirstMessage.NeedMore;
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(rest[3..]);
            if (length is 0 or > MaxRecordLength)
            {
                return FirstMessage.Malformed("a record length of 0 or over 2^14");
            }

            if (rest.Length < 5 + length)
            {
                return FirstMessage.NeedMore;
            }

            var fragment = rest.Slice(5, length);
            offset += 5 + length;
            var take = Math.Min(fragment.Length, handshake.Length - have);
            fragment[..take].CopyTo(handshake.AsSpan(have));
            have += take;
            if (have < 4)
            {
                continue;
            }

            if (handshake[0] != ClientHelloType)
            {
                return FirstMessage.Malformed("the first handshake message is not a ClientHello");
            }

            var messageLength = (handshake[1] << 16) | (handshake[2] << 8) | handshake[3];
            if (messageLength > maxHandshakeLength)
            {
                return FirstMessage.Malformed("a ClientHello longer than the guard reads");
            }

            if (have >= 4 + messageLength)
            {
                return ParseClientHello(handshake.AsSpan(4, messageLength));
            }

            if (take < fragment.Length)
            {
                return FirstMessage.Malformed("a ClientHello longer than the guard reads");
            }
        }
    }

    private static FirstMessage ParseClientHello(ReadOnlySpan<byte> body)
    {
        var reader = new SpanReader(body);
        if (!reader.Skip(2 + 32) // legacy_version, random
            || !reader.TryVector8(out var sessionId) || sessionId.Length > 32
            || !reader.TryVector16(out var cipherSuites) || cipherSuites.Length < 2 || cipherSuites.Length % 2 != 0
            || !reader.TryVector8(out var compression) || compression.Length < 1)
        {
            return FirstMessage.Malformed("a ClientHello whose fields do not add up");
        }

        if (reader.Remaining == 0)
        {
            return new FirstMessage(FirstMessageKind.TlsClientHello, []); // no extensions at all (TLS 1.0 style)
        }

        if (!reader.TryVector16(out var extensions) || reader.Remaining != 0)
        {
            return FirstMessage.Malformed("a ClientHello whose extensions do not add up");
        }

        var seen = new HashSet<ushort>();
        string? serverName = null;
        var list = new SpanReader(extensions);
        while (list.Remaining > 0)
        {
            if (!list.TryUInt16(out var type) || !list.TryVector16(out var data))
            {
                return FirstMessage.Malformed("an extension whose length does not add up");
            }

            if (!seen.Add(type))
            {
                return FirstMessage.Malformed("an extension sent twice");
            }

            if (type == ServerNameExtension)
            {
                serverName = ParseServerName(data, out var problem);
                if (serverName is null)
                {
                    return FirstMessage.Malformed(problem!);
                }
            }
        }

        return new FirstMessage(FirstMessageKind.TlsClientHello, serverName is null ? [] : [serverName]);
    }

    private static string? ParseServerName(ReadOnlySpan<byte> data, out string? problem)
    {
        var reader = new SpanReader(data);
        if (!reader.TryVector16(out var names) || reader.Remaining != 0 || names.IsEmpty)
        {
            problem = "a server_name extension whose length does not add up";
            return null;
        }

        string? hostName = null;
        var list = new SpanReader(names);
        while (list.Remaining > 0)
        {
            if (!list.TryByte(out var nameType) || !list.TryVector16(out var name))
            {
                problem = "a server name whose length does not add up";
                return null;
            }

            if (nameType != HostNameType || hostName is not null)
            {
                problem = "a server_name extension with other than one host_name";
                return null;
            }

            hostName = HostName.TryNormalize(name);
            if (hostName is null)
            {
                problem = "a server name that is not a host name";
                return null;
            }
        }

        problem = hostName is null ? "an empty server_name extension" : null;
        return hostName;
    }

    /// <summary>Reads big-endian integers and length-prefixed vectors, reporting false instead of running off the end.</summary>
    private ref struct SpanReader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public readonly int Remaining => _rest.Length;

        public bool Skip(int count)
        {
            if (_rest.Length < count)
            {
                return false;
            }

            _rest = _rest[count..];
            return true;
        }

        public bool TryByte(out byte value)
        {
            value = _rest.IsEmpty ? (byte)0 : _rest[0];
            return Skip(1);
        }

        public bool TryUInt16(out ushort value)
        {
            value = _rest.Length < 2 ? (ushort)0 : BinaryPrimitives.ReadUInt16BigEndian(_rest);
            return Skip(2);
        }

        public bool TryVector8(out ReadOnlySpan<byte> vector)
        {
            vector = default;
            return TryByte(out var length) && TryTake(length, out vector);
        }

        public bool TryVector16(out ReadOnlySpan<byte> vector)
        {
            vector = default;
            return TryUInt16(out var length) && TryTake(length, out vector);
        }

        private bool TryTake(int length, out ReadOnlySpan<byte> vector)
        {
            vector = _rest.Length < length ? default : _rest[..length];
            return Skip(length);
        }
    }
}
