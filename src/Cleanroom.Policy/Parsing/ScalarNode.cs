using System.Globalization;
using System.Text;

namespace Cleanroom.Policy.Parsing;

/// <summary>
/// A scalar with its source text. Plain (unquoted, untagged) scalars are typed by the YAML 1.2 core schema:
/// <c>~</c>/<c>null</c> are null, <c>true</c>/<c>false</c> are booleans, decimal digits are integers.
/// Quoted scalars are always strings, so <c>version: "1"</c> is a string and is rejected where a number belongs.
/// </summary>
internal sealed class ScalarNode(SourceLocation location, string value, bool isPlain) : YamlNode(location)
{
    private const int MaxShownLength = 60;

    public string Value { get; } = value;

    /// <summary>Unquoted and without a tag that forces a string, so core-schema typing applies.</summary>
    public bool IsPlain { get; } = isPlain;

    public override long Weight => 1;

    public bool IsNull => IsPlain && Value is "" or "~" or "null" or "Null" or "NULL";

    public bool TryGetBoolean(out bool value)
    {
        value = false;
        if (!IsPlain)
        {
            return false;
        }

        switch (Value)
        {
            case "true" or "True" or "TRUE":
                value = true;
                return true;
            case "false" or "False" or "FALSE":
                return true;
            default:
                return false;
        }
    }

    /// <summary>Decimal integers only: <c>0x1BB</c> or <c>0o17</c> as a port or a count would only confuse.</summary>
    public bool TryGetInteger(out long value)
    {
        value = 0;
        if (!IsPlain || !LooksLikeInteger(Value))
        {
            return false;
        }

        return long.TryParse(Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The string value of any non-null scalar: <c>FOO: 1</c> in an env map means the text "1".</summary>
    public bool IsText => !IsNull;

    /// <summary>A string in the strict sense: quoted, or plain text that is not null, a boolean or a number.</summary>
    public bool IsString => !IsPlain || (!IsNull && !TryGetBoolean(out _) && !IsNumber());

    public override string Describe()
    {
        if (IsNull)
        {
            return "null";
        }

        if (TryGetBoolean(out var flag))
        {
            return flag ? "boolean true" : "boolean false";
        }

        if (IsNumber())
        {
            return (LooksLikeInteger(Value) ? "integer " : "number ") + Value;
        }

        return "string " + Quote(Value);
    }

    /// <summary>A short, escaped, double-quoted rendering of text for error messages.</summary>
    public static string Quote(string text)
    {
        var shown = new StringBuilder("\"");
        foreach (var c in text.Length > MaxShownLength ? text[..MaxShownLength] : text)
        {
            shown.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ when char.IsControl(c) => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }

        if (text.Length > MaxShownLength)
        {
            shown.Append('…');
        }

        return shown.Append('"').ToString();
    }

    private bool IsNumber()
    {
        if (!IsPlain)
        {
            return false;
        }

        if (LooksLikeInteger(Value) || Value is ".inf" or "-.inf" or "+.inf" or ".nan" or ".Inf" or ".NaN")
        {
            return true;
        }

        return Value.Length > 0
            && (char.IsAsciiDigit(Value[0]) || Value[0] is '-' or '+' or '.')
            && double.TryParse(Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
    }

    private static bool LooksLikeInteger(string text)
    {
        var digits = text.AsSpan();
        if (digits.Length > 0 && digits[0] is '-' or '+')
        {
            digits = digits[1..];
        }

        return digits.Length > 0 && !digits.ContainsAnyExceptInRange('0', '9');
    }
}
