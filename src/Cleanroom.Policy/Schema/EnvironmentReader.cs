using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy.Schema;

/// <summary>Reads a block's <c>env</c> mapping of variable names to values.</summary>
internal static partial class EnvironmentReader
{
    public static ImmutableSortedDictionary<string, string> Read(YamlNode node, KeyPath path, SchemaReader reader)
    {
        var result = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        var mapping = reader.Mapping(node, path, "a mapping of variable names to values, such as {NODE_ENV: production}");
        if (mapping is null)
        {
            return result.ToImmutable();
        }

        foreach (var entry in mapping.Entries)
        {
            var entryPath = path.Key(entry.Key.Value);
            if (!NamePattern().IsMatch(entry.Key.Value))
            {
                reader.Error(PolicyErrorKind.InvalidEnvName, entry.Key, entryPath,
                    "environment variable names are letters, digits and '_', not starting with a digit",
                    "a name such as NODE_ENV");
                continue;
            }

            if (reader.Text(entry.Value, entryPath, "a single value; quote it to be sure it stays text") is { } value)
            {
                result[entry.Key.Value] = value;
            }
        }

        return result.ToImmutable();
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
