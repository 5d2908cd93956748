namespace Cleanroom.Cli.Rendering;

/// <summary>Writes <c>key: value</c> lines, the inspect format meant for both people and <c>grep</c>/<c>cut</c>.</summary>
internal static class KeyValueWriter
{
    public static void Write(TextWriter output, IEnumerable<(string Key, string Value)> pairs)
    {
        foreach (var (key, value) in pairs)
        {
            // An empty value prints as "key:" so no line ends in whitespace.
            output.WriteLine(value.Length == 0 ? key + ":" : $"{key}: {value}");
        }
    }
}
