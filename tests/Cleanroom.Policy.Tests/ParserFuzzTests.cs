using System.Diagnostics;
using System.Text;

namespace Cleanroom.Policy.Tests;

/// <summary>
/// Random bytes, random YAML built from the schema's own vocabulary, and random edits of the valid fixtures: the
/// compiler must never throw, never hang, and either compile or give positioned errors. Seeds are fixed.
/// </summary>
public sealed class ParserFuzzTests
{
    private static readonly TimeSpan PerCaseLimit = TimeSpan.FromSeconds(5);

    private static readonly string[] Keys =
    [
        "version", "repository", "sandbox", "image", "ref", "resources", "vcpus", "memory", "disk", "network", "default",
        "allow", "deny", "host", "ports", "docker", "required", "dependencies", "services", "name", "command", "inputs",
        "files", "env", "outputs", "dirs", "run", "before", "reuse", "blocks", "enabled", "remote", "path", "submodules", "<<", "?",
    ];

    private static readonly string[] Scalars =
    [
        "1", "0", "-1", "70000", "true", "no", "~", "null", "", "deny", "allow", "api.github.com:443", "*.example.com:443",
        "10.0.0.0/8:22", "2001:db8::1", "https://x.example", "8GiB", "8", "npm ci", "node_modules", "/", ".", "..", "~/x",
        "$HOME/y", "${WORKSPACE}", "package.json", "src/**/*.go", "\"quoted\"", "'single'", "|", ">", "&a", "*a", "!!str",
        "!tag", "[", "]", "{", "}", ",", "#", "- ", ": ", "---", "...", "%YAML 1.2", "\t", "é", "\u0001", TestPolicies.Image,
    ];

    [Fact]
    public void Random_bytes_never_crash_and_always_give_positioned_errors()
    {
        var random = new Random(11);
        for (var i = 0; i < 1500; i++)
        {
            var bytes = new byte[random.Next(0, 2048)];
            random.NextBytes(bytes);
            AssertHandled(bytes, $"bytes #{i}");
        }
    }

    [Fact]
    public void Random_printable_text_never_crashes()
    {
        var random = new Random(12);
        const string alphabet = "abc:- \n\t[]{},#&*!|>'\"%@`?.0123456789~\\";
        for (var i = 0; i < 1500; i++)
        {
            var text = new string([.. Enumerable.Range(0, random.Next(0, 400)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            AssertHandled(Encoding.UTF8.GetBytes(text), $"text #{i}: {text}");
        }
    }

    [Fact]
    public void Random_yaml_from_the_schema_vocabulary_never_crashes()
    {
        var random = new Random(13);
        for (var i = 0; i < 2000; i++)
        {
            var text = new StringBuilder();
            WriteRandomMapping(random, text, 0, random.Next(1, 6));
            AssertHandled(Encoding.UTF8.GetBytes(text.ToString()), $"yaml #{i}:\n{text}");
        }
    }

    [Fact]
    public void Random_edits_of_valid_fixtures_never_crash()
    {
        var random = new Random(14);
        var fixtures = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", "valid"), "*.yaml")
            .Order(StringComparer.Ordinal)
            .Select(File.ReadAllText)
            .ToList();
        var compiled = 0;
        for (var i = 0; i < 3000; i++)
        {
            var text = Mutate(random, fixtures[random.Next(fixtures.Count)]);
            if (AssertHandled(Encoding.UTF8.GetBytes(text), $"mutation #{i}:\n{text}") is { } policy)
            {
                compiled++;

                // Whatever survives mutation must also survive the trip to the daemon unchanged.
                Assert.Equal(policy.Hash, CompiledPolicy.FromJson(policy.ToJson()).Hash);
            }
        }

        Assert.True(compiled > 0, "no mutation compiled; the round-trip property was never exercised");
    }

    private static CompiledPolicy? AssertHandled(byte[] input, string description)
    {
        PolicyCompileResult? result = null;
        var watch = Stopwatch.StartNew();
        var finished = Task.Run(() => result = PolicyCompiler.Compile(input, "fuzz.yaml")).Wait(PerCaseLimit);

        Assert.True(finished, $"compilation hung (> {PerCaseLimit.TotalSeconds}s) on {description}");
        Assert.NotNull(result);
        if (result.IsValid)
        {
            Assert.Empty(result.Errors);
            return result.Policy;
        }

        Assert.NotEmpty(result.Errors);
        foreach (var error in result.Errors)
        {
            Assert.True(error.Location.Line >= 1 && error.Location.Column >= 1, $"unpositioned error {error} for {description}");
            Assert.Equal("fuzz.yaml", error.Location.File);
            Assert.False(string.IsNullOrEmpty(error.Message));
        }

        Assert.True(watch.Elapsed < PerCaseLimit, description);
        return null;
    }

    private static void WriteRandomMapping(Random random, StringBuilder text, int indent, int entries)
    {
        for (var i = 0; i < entries; i++)
        {
            text.Append(' ', indent).Append(Keys[random.Next(Keys.Length)]).Append(':');
            switch (random.Next(indent > 8 ? 2 : 5))
            {
                case 0:
                case 1:
                    text.Append(' ').Append(Scalars[random.Next(Scalars.Length)]).Append('\n');
                    break;
                case 2:
                    text.Append('\n');
                    WriteRandomMapping(random, text, indent + random.Next(1, 4), random.Next(1, 4));
                    break;
                case 3:
                    text.Append('\n');
                    for (var j = random.Next(0, 4); j > 0; j--)
                    {
                        text.Append(' ', indent + 2).Append("- ").Append(Scalars[random.Next(Scalars.Length)]).Append('\n');
                    }

                    break;
                default:
                    text.Append(" [").Append(string.Join(", ", Enumerable.Range(0, random.Next(0, 4)).Select(_ => Scalars[random.Next(Scalars.Length)]))).Append("]\n");
                    break;
            }
        }
    }

    private static string Mutate(Random random, string text)
    {
        var chars = new StringBuilder(text);
        for (var edits = random.Next(1, 4); edits > 0 && chars.Length > 0; edits--)
        {
            var at = random.Next(chars.Length);
            switch (random.Next(5))
            {
                case 0:
                    chars.Remove(at, Math.Min(random.Next(1, 6), chars.Length - at));
                    break;
                case 1:
                    chars.Insert(at, Scalars[random.Next(Scalars.Length)]);
                    break;
                case 2:
                    chars[at] = " \n:-[]{}#&*!'\"x0"[random.Next(16)];
                    break;
                case 3:
                    var lines = chars.ToString().Split('\n').ToList();
                    var line = random.Next(lines.Count);
                    lines.Insert(random.Next(lines.Count), lines[line]);
                    chars.Clear().Append(string.Join('\n', lines));
                    break;
                default:
                    chars.Insert(at, Keys[random.Next(Keys.Length)] + ": ");
                    break;
            }
        }

        return chars.ToString();
    }
}
