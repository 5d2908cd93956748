using System.Text;

namespace Cleanroom.Escaping;

/// <summary>
/// File names as Linux has them (any bytes but NUL) carried in .NET strings without loss. Valid UTF-8 decodes as
/// usual; every byte that is not part of a valid UTF-8 sequence becomes the lone surrogate U+DC80–U+DCFF (the
/// "surrogateescape" of PEP 383), and encoding turns those back into the same bytes. A decoded name never holds a
/// lone surrogate otherwise (valid UTF-8 cannot encode one), so the mapping is exact both ways.
/// </summary>
/// <remarks>
/// .NET's own file APIs encode paths with <see cref="Encoding.UTF8"/>, which turns a lone surrogate into U+FFFD, so a
/// name holding escaped bytes must only reach the kernel through calls marshalled with <see cref="FileNameMarshaller"/>.
/// </remarks>
public static class FileNameBytes
{
    private const char FirstEscape = '\uDC80';
    private const char LastEscape = '\uDCFF';

    /// <summary>The name for <paramref name="bytes"/>: UTF-8 where valid, escaped bytes elsewhere.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (!Utf8Validates(bytes))
        {
            return DecodeEscaping(bytes);
        }

        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>The bytes <paramref name="name"/> stands for.</summary>
    /// <exception cref="ArgumentException">The name holds a lone surrogate that is not an escaped byte.</exception>
    public static byte[] Encode(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!HasLoneSurrogate(name))
        {
            return Encoding.UTF8.GetBytes(name);
        }

        var bytes = new List<byte>(name.Length + 8);
        Span<byte> rune = stackalloc byte[4];
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                var written = new Rune(c, name[i + 1]).EncodeToUtf8(rune);
                bytes.AddRange(rune[..written]);
                i++;
            }
            else if (c is >= FirstEscape and <= LastEscape)
            {
                bytes.Add((byte)(c - '\uDC00'));
            }
            else if (char.IsSurrogate(c))
            {
                throw new ArgumentException($"The name holds a lone surrogate U+{(int)c:X4} that stands for no byte.", nameof(name));
            }
            else
            {
                var written = new Rune(c).EncodeToUtf8(rune);
                bytes.AddRange(rune[..written]);
            }
        }

        return [.. bytes];
    }

    /// <summary>True when the name holds escaped bytes, that is, when its bytes are not valid UTF-8.</summary>
    public static bool HasEscapedBytes(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (var i = 0; i < name.Length; i++)
        {
            if (name[i] is >= FirstEscape and <= LastEscape && (i == 0 || !char.IsHighSurrogate(name[i - 1])))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True for a character that stands for one raw byte.</summary>
    public static bool IsEscapedByte(char c, out byte value)
    {
        value = (byte)(c - '\uDC00');
        return c is >= FirstEscape and <= LastEscape;
    }

    private static bool Utf8Validates(ReadOnlySpan<byte> bytes) => System.Text.Unicode.Utf8.IsValid(bytes);

    private static bool HasLoneSurrogate(string name)
    {
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsHighSurrogate(name[i]) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(name[i]))
            {
                return true;
            }
        }

        return false;
    }

    private static string DecodeEscaping(ReadOnlySpan<byte> bytes)
    {
        var builder = new StringBuilder(bytes.Length);
        Span<char> pair = stackalloc char[2];
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out var rune, out var consumed) == System.Buffers.OperationStatus.Done)
            {
                builder.Append(pair[..rune.EncodeToUtf16(pair)]);
                bytes = bytes[consumed..];
            }
            else
            {
                // ASCII always decodes, so the byte that failed is 0x80 or above and lands in U+DC80–U+DCFF.
                builder.Append((char)('\uDC00' + bytes[0]));
                bytes = bytes[1..];
            }
        }

        return builder.ToString();
    }
}
