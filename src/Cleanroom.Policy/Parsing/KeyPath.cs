using System.Globalization;

namespace Cleanroom.Policy.Parsing;

/// <summary>
/// The dotted path to a node, e.g. <c>sandbox.network.allow[2]</c>, built as the schema reader descends.
/// Keys that are not simple identifiers are quoted (<c>env["a.b"]</c>) so the path stays unambiguous.
/// </summary>
internal sealed class KeyPath
{
    public static readonly KeyPath Root = new(string.Empty);

    private readonly string _text;

    private KeyPath(string text) => _text = text;

    public KeyPath Key(string key)
    {
        if (IsSimple(key))
        {
            return new KeyPath(_text.Length == 0 ? key : _text + "." + key);
        }

        var quoted = "[\"" + key.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"]";
        return new KeyPath(_text + quoted);
    }

    public KeyPath Index(int index) => new(_text + "[" + index.ToString(CultureInfo.InvariantCulture) + "]");

    public override string ToString() => _text;

    private static bool IsSimple(string key) =>
        key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}
