namespace Cleanroom.Policy.Tests;

/// <summary>
/// Errors quote the policy file, which a repository controls: what they print must never carry raw control
/// characters (terminal escape sequences) or megabytes of the file.
/// </summary>
public sealed class DiagnosticTextTests
{
    [Fact]
    public void A_key_with_terminal_escapes_is_shown_escaped_in_its_path()
    {
        var result = TestPolicies.CompileInvalid(TestPolicies.WithSandbox("  \"\\e[2J\\e]0;pwned\\a\\u202e\": 1\n"));

        var text = string.Join('\n', result.Errors.Select(e => e.ToString()));
        Assert.Contains("\\x1b[2J", text, StringComparison.Ordinal);
        Assert.Contains("\\u202e", text, StringComparison.Ordinal);
        Assert.DoesNotContain(text, c => char.IsControl(c) || c == '\u202e');
    }

    [Fact]
    public void Binary_garbage_gives_errors_without_control_characters()
    {
        var garbage = new string(Enumerable.Range(0, 4000).Select(i => (char)(i % 32 == 10 ? 'x' : i % 32)).ToArray());
        var result = TestPolicies.CompileInvalid("version: 1\nsandbox: " + garbage);

        Assert.NotEmpty(result.Errors);
        foreach (var error in result.Diagnostics)
        {
            Assert.DoesNotContain(error.ToString(), char.IsControl);
        }
    }

    [Fact]
    public void A_huge_key_is_cut_in_every_message()
    {
        var key = new string('k', 500_000);
        var result = TestPolicies.CompileInvalid(TestPolicies.WithSandbox($"  {key}: 1\n  \"{key}\\n\": 2\n"));

        Assert.NotEmpty(result.Errors);
        Assert.All(result.Diagnostics, d => Assert.True(d.ToString().Length < 4000, $"{d.ToString().Length} characters"));
    }

    [Fact]
    public void Ordinary_text_is_kept_as_it_is()
    {
        var error = new PolicyDiagnostic(DiagnosticSeverity.Error, PolicyErrorKind.UnknownKey, SourceLocation.StartOf("cleanroom.yaml"),
            "sandbox.colour", "unknown key \"colour\" — did you mean \"color\"?", "key \"colour\"", "a known key");

        Assert.Equal("cleanroom.yaml:1:1: error: sandbox.colour: unknown key \"colour\" — did you mean \"color\"? (found key \"colour\"; expected a known key)", error.ToString());
    }
}
