using System.Text;
using Cleanroom.Guest.Wire.Framing;

namespace Cleanroom.Guest.Wire.Messages;

/// <summary>The guest's answer to a <see cref="ConfigureMessage"/>: an empty <see cref="Error"/> means it is configured.</summary>
public sealed record ConfiguredMessage(string Error)
{
    public const int MaxErrorBytes = 1024;

    public static readonly ConfiguredMessage Success = new("");

    /// <summary>Encodes the answer; an error longer than <see cref="MaxErrorBytes"/> is cut to fit, never refused.</summary>
    public byte[] Encode() => new PayloadWriter().WriteString(Truncate(Error)).ToArray();

    public static ConfiguredMessage Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload, "configured");
        var error = reader.ReadString(MaxErrorBytes);
        reader.EnsureEnd();
        return new ConfiguredMessage(error);
    }

    private static string Truncate(string text)
    {
        if (Encoding.UTF8.GetByteCount(text) <= MaxErrorBytes)
        {
            return text;
        }

        var chars = Math.Min(text.Length, MaxErrorBytes);
        while (chars > 0 && (Encoding.UTF8.GetByteCount(text.AsSpan(0, chars)) > MaxErrorBytes || char.IsHighSurrogate(text[chars - 1])))
        {
            chars--;
        }

        return text[..chars];
    }
}
