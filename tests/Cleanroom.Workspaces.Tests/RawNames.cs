using Cleanroom.Escaping;

namespace Cleanroom.Workspaces.Tests;

/// <summary>
/// Makes and inspects files whose names are not UTF-8 with shell tools (printf, find, od, readlink), never .NET's
/// path APIs, which cannot name them; so what the tests see is the bytes on disk.
/// </summary>
internal static class RawNames
{
    /// <summary>A shell word that expands to exactly <paramref name="name"/>'s bytes (every byte octal-escaped).</summary>
    public static string Word(string name) =>
        "\"$(printf '" + string.Concat(FileNameBytes.Encode(name).Select(b => "\\" + Convert.ToString(b, 8).PadLeft(3, '0'))) + "')\"";

    /// <summary>Writes <paramref name="content"/> (plain text) to <paramref name="name"/> under <paramref name="directory"/>.</summary>
    public static Task WriteAsync(string directory, string name, string content) =>
        Shell.ShAsync(directory, $"mkdir -p \"$(dirname {Word(name)})\" && printf '%s' '{content}' > {Word(name)}");

    public static Task<string> ReadAsync(string directory, string name) => Shell.ShAsync(directory, $"cat {Word(name)}");

    public static async Task<bool> ExistsAsync(string directory, string name) =>
        (await Shell.ShAsync(directory, $"if [ -e {Word(name)} ] || [ -L {Word(name)} ]; then echo yes; else echo no; fi")).Trim() == "yes";

    /// <summary>The symlink's target bytes, as hex.</summary>
    public static async Task<string> LinkTargetHexAsync(string directory, string name) =>
        (await Shell.ShAsync(directory, $"printf '%s' \"$(readlink {Word(name)})\" | od -An -v -tx1 | tr -d ' \\n'")).Trim();

    /// <summary>Every path below <paramref name="directory"/> (not in .git), from <c>find -print0</c>, decoded exactly.</summary>
    public static async Task<HashSet<string>> ListAsync(string directory)
    {
        var hex = (await Shell.ShAsync(directory, "find . -mindepth 1 -path ./.git -prune -o -print0 | od -An -v -tx1 | tr -d ' \\n'")).Trim();
        var bytes = Convert.FromHexString(hex);
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var range in bytes.AsSpan().Split((byte)0))
        {
            var path = bytes.AsSpan(range);
            if (!path.IsEmpty && !path.SequenceEqual("./.git"u8))
            {
                paths.Add(FileNameBytes.Decode(path[2..]));
            }
        }

        return paths;
    }

    /// <summary>The name's bytes as hex, for comparing with what the shell tools print.</summary>
    public static string Hex(string name) => Convert.ToHexStringLower(FileNameBytes.Encode(name));

    /// <summary>Git's blob id of plain <paramref name="content"/>.</summary>
    public static async Task<string> BlobOfAsync(string directory, string content) =>
        (await Shell.ShAsync(directory, $"printf '%s' '{content}' | git hash-object --stdin")).Trim();

    /// <summary>Git's blob id of a symlink to <paramref name="target"/> (its bytes).</summary>
    public static async Task<string> SymlinkBlobOfAsync(string directory, string target) =>
        (await Shell.ShAsync(directory, $"printf '%s' {Word(target)} | git hash-object --stdin")).Trim();
}
