using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy.Schema;

/// <summary>
/// Typed access to the node tree for the section readers. Every accessor either returns a value or records one
/// positioned error and returns null, so a section reader can keep going and report all problems in one run.
/// </summary>
internal sealed class SchemaReader(DiagnosticBag diagnostics)
{
    public DiagnosticBag Diagnostics { get; } = diagnostics;

    public void Error(PolicyErrorKind kind, YamlNode node, KeyPath path, string message, string expected) =>
        Diagnostics.Error(kind, node.Location, path.ToString(), message, node.Describe(), expected);

    public void Warning(PolicyErrorKind kind, YamlNode node, KeyPath path, string message, string expected) =>
        Diagnostics.Warning(kind, node.Location, path.ToString(), message, node.Describe(), expected);

    public MappingNode? Mapping(YamlNode node, KeyPath path, string expected)
    {
        if (node is MappingNode mapping)
        {
            return mapping;
        }

        Error(PolicyErrorKind.WrongType, node, path, "this must be a mapping of keys to values", expected);
        return null;
    }

    public SequenceNode? Sequence(YamlNode node, KeyPath path, string expected)
    {
        if (node is SequenceNode sequence)
        {
            return sequence;
        }

        Error(PolicyErrorKind.WrongType, node, path, "this must be a list", expected);
        return null;
    }

    /// <summary>
    /// The entries of <paramref name="mapping"/> by key, after reporting every key that is not in
    /// <paramref name="knownKeys"/> (with a "did you mean" hint when a known key is one or two edits away).
    /// </summary>
    public Dictionary<string, MappingEntry> Keys(MappingNode mapping, KeyPath path, params string[] knownKeys)
    {
        var result = new Dictionary<string, MappingEntry>(StringComparer.Ordinal);
        foreach (var entry in mapping.Entries)
        {
            if (knownKeys.Contains(entry.Key.Value, StringComparer.Ordinal))
            {
                result[entry.Key.Value] = entry;
                continue;
            }

            var message = $"unknown key {ScalarNode.Quote(entry.Key.Value)}";
            var hint = KeyHints.Suggest(entry.Key.Value, knownKeys);
            if (hint is not null)
            {
                message += $"; did you mean {ScalarNode.Quote(hint)}?";
            }

            Diagnostics.Error(PolicyErrorKind.UnknownKey, entry.Key.Location, path.Key(entry.Key.Value).ToString(), message,
                "key " + ScalarNode.Quote(entry.Key.Value), "one of: " + string.Join(", ", knownKeys));
        }

        return result;
    }

    public void Missing(MappingNode mapping, KeyPath path, string key, string expected) =>
        Diagnostics.Error(PolicyErrorKind.MissingKey, mapping.Location, path.Key(key).ToString(),
            $"the required key {ScalarNode.Quote(key)} is missing", $"no {ScalarNode.Quote(key)} key", expected);

    public bool? Boolean(YamlNode node, KeyPath path)
    {
        if (node is ScalarNode scalar && scalar.TryGetBoolean(out var value))
        {
            return value;
        }

        var message = node is ScalarNode { Value: "yes" or "no" or "on" or "off" or "y" or "n" }
            ? "this must be a boolean; YAML 1.2 reads yes/no/on/off as strings"
            : "this must be a boolean";
        Error(PolicyErrorKind.WrongType, node, path, message, "true or false");
        return null;
    }

    public long? Integer(YamlNode node, KeyPath path, long min, long max, string expected)
    {
        if (node is not ScalarNode scalar || !scalar.TryGetInteger(out var value))
        {
            Error(PolicyErrorKind.WrongType, node, path, "this must be a whole number", expected);
            return null;
        }

        if (value < min || value > max)
        {
            Error(PolicyErrorKind.OutOfRange, node, path, $"the value must be between {min} and {max}", expected);
            return null;
        }

        return value;
    }

    /// <summary>A string in the strict sense: <c>name: 123</c> or <c>ref: true</c> is rejected.</summary>
    public string? String(YamlNode node, KeyPath path, string expected)
    {
        if (node is ScalarNode { IsString: true } scalar)
        {
            return scalar.Value;
        }

        Error(PolicyErrorKind.WrongType, node, path, "this must be a string", expected);
        return null;
    }

    /// <summary>Any non-null scalar as text, for env values and argv words where <c>5</c> plainly means "5".</summary>
    public string? Text(YamlNode node, KeyPath path, string expected)
    {
        if (node is ScalarNode { IsText: true } scalar)
        {
            return scalar.Value;
        }

        Error(PolicyErrorKind.WrongType, node, path, "this must be a single value, not a list, a mapping or null", expected);
        return null;
    }

    /// <summary>A string, the only word allowed in a set of <paramref name="words"/>.</summary>
    public string? Word(YamlNode node, KeyPath path, params string[] words)
    {
        var expected = "one of: " + string.Join(", ", words);
        var text = String(node, path, expected);
        if (text is null)
        {
            return null;
        }

        if (words.Contains(text, StringComparer.Ordinal))
        {
            return text;
        }

        Error(PolicyErrorKind.InvalidValue, node, path, $"{ScalarNode.Quote(text)} is not a valid value here", expected);
        return null;
    }
}
