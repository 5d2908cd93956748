using System.Diagnostics;
using System.Text;

namespace Cleanroom.Policy.Tests;

/// <summary>Oversized files, alias bombs and deep nesting are refused quickly with a clear error.</summary>
public sealed class LimitTests
{
    private static readonly TimeSpan Quickly = TimeSpan.FromSeconds(2);

    [Fact]
    public void A_file_over_one_mebibyte_is_refused_before_it_is_read()
    {
        using var repo = new TemporaryDirectory();
        var policy = TestPolicies.WithSandbox() + "# " + new string('x', 1024 * 1024) + "\n";
        repo.Write("cleanroom.yaml", policy);

        var watch = Stopwatch.StartNew();
        var result = PolicyLoader.Load(new PolicyLoadOptions { Directory = repo.Path });

        Assert.True(watch.Elapsed < Quickly);
        var error = Assert.Single(result.Errors);
        Assert.Equal(PolicyErrorKind.FileTooLarge, error.Kind);
        Assert.Equal((1, 1), (error.Location.Line, error.Location.Column));
        Assert.Contains("1 MiB", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1024 * 1024 + 1)]
    [InlineData(16 * 1024 * 1024)]
    public void Text_and_bytes_over_the_limit_are_refused_fast(int size)
    {
        var text = new string('#', size);

        var watch = Stopwatch.StartNew();
        var fromText = PolicyCompiler.Compile(text, "big.yaml");
        var fromBytes = PolicyCompiler.Compile(Encoding.UTF8.GetBytes(text), "big.yaml");

        Assert.True(watch.Elapsed < Quickly);
        Assert.Equal(PolicyErrorKind.FileTooLarge, Assert.Single(fromText.Errors).Kind);
        Assert.Equal(PolicyErrorKind.FileTooLarge, Assert.Single(fromBytes.Errors).Kind);
    }

    [Fact]
    public void A_policy_just_under_the_limit_is_still_read()
    {
        var head = TestPolicies.WithSandbox();
        var padding = new string('x', 1024 * 1024 - Encoding.UTF8.GetByteCount(head) - 3);
        var text = head + "# " + padding + "\n";
        Assert.Equal(1024 * 1024, Encoding.UTF8.GetByteCount(text));

        Assert.True(PolicyCompiler.Compile(text, "edge.yaml").IsValid);
    }

    [Theory]
    [InlineData(9, 10)]
    [InlineData(30, 2)]
    [InlineData(5, 100)]
    public void Alias_bombs_are_refused_fast(int levels, int fanOut)
    {
        var text = new StringBuilder("version: 1\nl0: &l0 [" + string.Join(", ", Enumerable.Repeat("\"lol\"", fanOut)) + "]\n");
        for (var level = 1; level <= levels; level++)
        {
            text.Append($"l{level}: &l{level} [").Append(string.Join(", ", Enumerable.Repeat($"*l{level - 1}", fanOut))).Append("]\n");
        }

        var watch = Stopwatch.StartNew();
        var result = PolicyCompiler.Compile(text.ToString(), "bomb.yaml");

        Assert.True(watch.Elapsed < Quickly, $"took {watch.Elapsed}");
        var error = Assert.Single(result.Errors);
        Assert.Equal(PolicyErrorKind.TooManyNodes, error.Kind);
        Assert.Contains("alias", error.Message, StringComparison.Ordinal);
        Assert.True(error.Location.Line > 1);
    }

    [Fact]
    public void Mapping_alias_bombs_are_refused_too()
    {
        var text = new StringBuilder("a0: &a0 {k: v, l: w}\n");
        for (var level = 1; level <= 40; level++)
        {
            text.Append($"a{level}: &a{level} {{x: *a{level - 1}, y: *a{level - 1}}}\n");
        }

        var result = PolicyCompiler.Compile(text.ToString(), "bomb.yaml");

        Assert.Equal(PolicyErrorKind.TooManyNodes, Assert.Single(result.Errors).Kind);
    }

    [Theory]
    [InlineData("[", "]")]
    [InlineData("{a: ", "}")]
    public void Deep_nesting_is_refused_without_exhausting_the_stack(string open, string close)
    {
        var depth = 100_000;
        var text = "version: " + string.Concat(Enumerable.Repeat(open, depth)) + string.Concat(Enumerable.Repeat(close, depth));

        var watch = Stopwatch.StartNew();
        var result = PolicyCompiler.Compile(text, "deep.yaml");

        Assert.True(watch.Elapsed < Quickly, $"took {watch.Elapsed}");
        Assert.Equal(PolicyErrorKind.NestingTooDeep, Assert.Single(result.Errors).Kind);
    }

    [Fact]
    public void A_flood_of_errors_is_capped()
    {
        var text = TestPolicies.WithSandbox() + string.Concat(Enumerable.Range(0, 1000).Select(i => $"  unknown{i}: x\n"));

        var result = PolicyCompiler.Compile(text, "flood.yaml");

        Assert.Equal(201, result.Errors.Count());
        Assert.Equal(PolicyErrorKind.TooManyErrors, result.Errors.Last().Kind);
    }
}
