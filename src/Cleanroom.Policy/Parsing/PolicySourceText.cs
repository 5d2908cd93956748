using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Cleanroom.Policy.Parsing;

/// <summary>
/// Guards that run before any parsing: the size limit and strict UTF-8 decoding. Invalid bytes are reported at
/// their line and column instead of being silently replaced, because a replaced byte in a host name would
/// otherwise surface later as a confusing "invalid host".
/// </summary>
internal static class PolicySourceText
{
    private static readonly string Expected = $"a UTF-8 text file of at most {ParserLimits.MaxSourceBytes} bytes (1 MiB)";

    public static bool IsWithinLimit(string text, string file, DiagnosticBag diagnostics)
    {
        // Cheap upper bound first: a UTF-8 encoding never needs more than 3 bytes per UTF-16 code unit.
        if ((long)text.Length * 3 <= ParserLimits.MaxSourceBytes)
        {
            return true;
        }

        return IsWithinLimit(Encoding.UTF8.GetByteCount(text), file, diagnostics);
    }

    public static bool IsWithinLimit(long byteCount, string file, DiagnosticBag diagnostics)
    {
        if (byteCount <= ParserLimits.MaxSourceBytes)
        {
            return true;
        }

        diagnostics.Error(PolicyErrorKind.FileTooLarge, SourceLocation.StartOf(file), string.Empty,
            $"the policy is {byteCount} bytes; policies are limited to 1 MiB", $"{byteCount} bytes", Expected);
        return false;
    }

    public static string? Decode(ReadOnlySpan<byte> bytes, string file, DiagnosticBag diagnostics)
    {
        if (!IsWithinLimit(bytes.Length, file, diagnostics))
        {
            return null;
        }

        var body = bytes.StartsWith("\uFEFF"u8) ? bytes[3..] : bytes;
        if (!Utf8.IsValid(body))
        {
            var offset = FirstInvalidByte(body);
            var (line, column) = Position(body[..offset]);
            diagnostics.Error(PolicyErrorKind.InvalidEncoding, new SourceLocation(file, line, column), string.Empty,
                $"byte 0x{body[offset]:x2} at offset {offset} is not valid UTF-8", "bytes that are not UTF-8", Expected);
            return null;
        }

        return Encoding.UTF8.GetString(body);
    }

    private static int FirstInvalidByte(ReadOnlySpan<byte> bytes)
    {
        var offset = 0;
        while (offset < bytes.Length && Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed) == OperationStatus.Done)
        {
            offset += consumed;
        }

        return Math.Min(offset, bytes.Length - 1);
    }

    private static (int Line, int Column) Position(ReadOnlySpan<byte> before)
    {
        var line = 1 + before.Count((byte)'\n');
        var lineStart = before.LastIndexOf((byte)'\n') + 1;
        var column = 1 + Encoding.UTF8.GetCharCount(before[lineStart..]);
        return (line, column);
    }
}
