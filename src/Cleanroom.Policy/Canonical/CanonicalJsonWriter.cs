using System.Globalization;
using System.Text;

namespace Cleanroom.Policy.Canonical;

/// <summary>
/// A minimal JSON writer whose output is defined here, byte for byte, rather than by a serializer that may change
/// between .NET releases: no whitespace, members in the order written, integers only, and strings with exactly
/// <c>"</c>, <c>\</c>, control characters, U+FFFE/U+FFFF and unpaired surrogates escaped (everything else is literal UTF-8).
/// The policy hash depends on this output, so any change here changes every hash.
/// </summary>
internal sealed class CanonicalJsonWriter
{
    private readonly StringBuilder _text = new();
    private readonly Stack<bool> _hasMembers = new();
    private bool _afterName;

    public CanonicalJsonWriter StartObject() => Open('{');

    public CanonicalJsonWriter EndObject() => Close('}');

    public CanonicalJsonWriter StartArray() => Open('[');

    public CanonicalJsonWriter EndArray() => Close(']');

    public CanonicalJsonWriter Name(string name)
    {
        Separate();
        AppendString(name);
        _text.Append(':');
        _afterName = true;
        return this;
    }

    public CanonicalJsonWriter String(string value)
    {
        Separate();
        AppendString(value);
        return this;
    }

    public CanonicalJsonWriter Number(long value)
    {
        Separate();
        _text.Append(value.ToString(CultureInfo.InvariantCulture));
        return this;
    }

    public CanonicalJsonWriter Boolean(bool value)
    {
        Separate();
        _text.Append(value ? "true" : "false");
        return this;
    }

    public CanonicalJsonWriter StringArray(IEnumerable<string> values)
    {
        StartArray();
        foreach (var value in values)
        {
            String(value);
        }

        return EndArray();
    }

    public override string ToString() => _text.ToString();

    private CanonicalJsonWriter Open(char bracket)
    {
        Separate();
        _text.Append(bracket);
        _hasMembers.Push(false);
        return this;
    }

    private CanonicalJsonWriter Close(char bracket)
    {
        _hasMembers.Pop();
        _text.Append(bracket);
        return this;
    }

    private void Separate()
    {
        if (_afterName)
        {
            _afterName = false;
            return;
        }

        if (_hasMembers.Count == 0)
        {
            return;
        }

        if (_hasMembers.Peek())
        {
            _text.Append(',');
        }
        else
        {
            _hasMembers.Pop();
            _hasMembers.Push(true);
        }
    }

    private void AppendString(string value)
    {
        _text.Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"':
                    _text.Append("\\\"");
                    break;
                case '\\':
                    _text.Append("\\\\");
                    break;
                case '\n':
                    _text.Append("\\n");
                    break;
                case '\r':
                    _text.Append("\\r");
                    break;
                case '\t':
                    _text.Append("\\t");
                    break;
                default:
                    if (char.IsControl(c) || c is '\uFFFE' or '\uFFFF' || IsUnpairedSurrogate(value, i))
                    {
                        _text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        _text.Append(c);
                    }

                    break;
            }
        }

        _text.Append('"');
    }

    private static bool IsUnpairedSurrogate(string value, int i)
    {
        var c = value[i];
        if (char.IsHighSurrogate(c))
        {
            return i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1]);
        }

        return char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(value[i - 1]));
    }
}
