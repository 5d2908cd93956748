using System.Globalization;
using System.Text;

namespace Cleanroom.Gateway.Bench;

/// <summary>
/// Random-ish source text of a given length: real-looking declarations with random names, numbers and strings, so
/// that deflate shrinks it only about 2x (real source shrinks 3-4x), not to nothing as repeated text would.
/// </summary>
internal static class SourceText
{
    private const string Letters = "abcdefghijklmnopqrstuvwxyz";

    /// <summary>Go declarations of about <paramref name="bytes"/> bytes (the package clause is the caller's).</summary>
    public static string Go(Random random, int bytes)
    {
        var text = new StringBuilder(bytes + 512);
        var n = 0;
        while (text.Length < bytes)
        {
            var name = Name(random) + n++.ToString(CultureInfo.InvariantCulture);
            text.Append(CultureInfo.InvariantCulture, $"// {name} folds {Name(random)} into {Name(random)} for the {Name(random)} table.\n");
            text.Append(CultureInfo.InvariantCulture, $"func {name}({Name(random)} int, {Name(random)} string) (int, error) {{\n");
            for (var line = random.Next(2, 7); line > 0; line--)
            {
                text.Append(random.Next(3) switch
                {
                    0 => string.Create(CultureInfo.InvariantCulture, $"\tif {Name(random)} := {random.Next(1_000_000)}; {Name(random)} > {random.Next(1000)} {{\n\t\treturn {random.Next()}, nil\n\t}}\n"),
                    1 => string.Create(CultureInfo.InvariantCulture, $"\t{Name(random)} := \"{Name(random)}-{random.Next():x}\"\n"),
                    _ => string.Create(CultureInfo.InvariantCulture, $"\t_ = {Name(random)}({random.Next(100)}, \"{Name(random)}\")\n"),
                });
            }

            text.Append(CultureInfo.InvariantCulture, $"\treturn {random.Next(1 << 16)}, nil\n}}\n\n");
        }

        return text.ToString();
    }

    /// <summary>Python assignments of about <paramref name="bytes"/> bytes.</summary>
    public static string Python(Random random, int bytes)
    {
        var text = new StringBuilder(bytes + 256);
        while (text.Length < bytes)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Name(random).ToUpperInvariant()}_{random.Next(10_000)} = (\"{Name(random)}\", {random.Next()}, 0x{random.Next():x})\n");
        }

        return text.ToString();
    }

    private static string Name(Random random)
    {
        Span<char> name = stackalloc char[random.Next(3, 10)];
        for (var i = 0; i < name.Length; i++)
        {
            name[i] = Letters[random.Next(Letters.Length)];
        }

        return new string(name);
    }
}
