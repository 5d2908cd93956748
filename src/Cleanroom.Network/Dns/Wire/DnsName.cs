using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Cleanroom.Network.Dns.Wire;

/// <summary>
/// A domain name in its uncompressed wire form (length-prefixed labels ending in the zero-length root label), at most
/// 255 bytes with labels of 1–63 bytes. Names compare as DNS does: ASCII case-insensitively. The wire form is kept as
/// received, so a label holding a dot or a control byte stays one label; <see cref="ToString"/> escapes such bytes as
/// <c>\DDD</c> (RFC 1035 §5.1 style), so the text of a hostile name is unambiguous and never a valid host name.
/// </summary>
internal sealed class DnsName : IEquatable<DnsName>
{
    public const int MaxWireLength = 255;
    public const int MaxLabelLength = 63;

    private readonly byte[] _wire;

    private DnsName(byte[] wire) => _wire = wire;

    /// <summary>The root name (a single zero byte).</summary>
    public static DnsName Root { get; } = new([0]);

    /// <summary>The uncompressed wire form, ending with the root label.</summary>
    public ReadOnlySpan<byte> Wire => _wire;

    /// <summary>
    /// Wraps an uncompressed wire form that the caller has already checked (the reader builds names label by label
    /// within the bounds).
    /// </summary>
    internal static DnsName FromCheckedWire(ReadOnlySpan<byte> wire) => new(wire.ToArray());

    /// <summary>
    /// Parses presentation text such as <c>api.example.com</c> or <c>api.example.com.</c>: labels of printable ASCII
    /// without escapes. For building names from trusted text (options, tests), not for guest input.
    /// </summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out DnsName? name)
    {
        ArgumentNullException.ThrowIfNull(text);
        name = null;
        if (text == ".")
        {
            name = Root;
            return true;
        }

        var trimmed = text.EndsWith('.') ? text[..^1] : text;
        if (trimmed.Length == 0 || trimmed.Length + 2 > MaxWireLength)
        {
            return false;
        }

        var wire = new byte[trimmed.Length + 2];
        var at = 0;
        foreach (var label in trimmed.Split('.'))
        {
            if (label.Length is 0 or > MaxLabelLength || !label.All(c => c is > ' ' and < '\x7f' and not '\\'))
            {
                return false;
            }

            wire[at++] = (byte)label.Length;
            at += Encoding.ASCII.GetBytes(label, wire.AsSpan(at));
        }

        wire[at] = 0;
        name = new DnsName(wire);
        return true;
    }

    /// <summary>The same name with ASCII letters lowercased.</summary>
    public DnsName ToLowerInvariant()
    {
        var wire = (byte[])_wire.Clone();
        for (var i = 0; i < wire.Length; i++)
        {
            wire[i] = Lower(wire[i]);
        }

        return new DnsName(wire);
    }

    /// <summary>Presentation text without the trailing dot (<c>.</c> for the root); unusual bytes as <c>\DDD</c>.</summary>
    public override string ToString()
    {
        if (_wire.Length == 1)
        {
            return ".";
        }

        var text = new StringBuilder(_wire.Length);
        for (var at = 0; _wire[at] != 0; at += _wire[at] + 1)
        {
            if (at > 0)
            {
                text.Append('.');
            }

            foreach (var b in _wire.AsSpan(at + 1, _wire[at]))
            {
                if (b is > (byte)' ' and < 0x7f && b != (byte)'.' && b != (byte)'\\')
                {
                    text.Append((char)b);
                }
                else
                {
                    text.Append('\\').Append(b.ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }

        return text.ToString();
    }

    public bool Equals(DnsName? other)
    {
        if (other is null || other._wire.Length != _wire.Length)
        {
            return false;
        }

        for (var i = 0; i < _wire.Length; i++)
        {
            if (Lower(_wire[i]) != Lower(other._wire[i]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as DnsName);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var b in _wire)
        {
            hash.Add(Lower(b));
        }

        return hash.ToHashCode();
    }

    // Length bytes are at most 63, below 'A', so folding every byte of the wire form folds only the letters.
    private static byte Lower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b;
}
