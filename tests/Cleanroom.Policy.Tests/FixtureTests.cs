namespace Cleanroom.Policy.Tests;

/// <summary>
/// Table-driven fixtures: every <c>Fixtures/valid/*.yaml</c> must compile and every <c>Fixtures/invalid/*.yaml</c>
/// must fail, each with exactly the diagnostics listed in the sibling <c>.expected</c> file, one per line as
/// <c>severity line:column key.path code</c> (<c>-</c> for the document itself). Input files are matched against
/// <c>Fixtures/repo</c>.
/// </summary>
public sealed class FixtureTests
{
    private static readonly string FixtureRoot = Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static TheoryData<string> ValidFixtures() => Names("valid");

    public static TheoryData<string> InvalidFixtures() => Names("invalid");

    [Fact]
    public void There_are_at_least_forty_fixtures()
    {
        Assert.True(ValidFixtures().Count + InvalidFixtures().Count >= 40);
    }

    [Theory]
    [MemberData(nameof(ValidFixtures))]
    public void Valid_fixture_compiles_with_the_expected_warnings(string name)
    {
        var result = Compile("valid", name);

        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        Assert.Equal(Expected("valid", name), Describe(result));
    }

    [Theory]
    [MemberData(nameof(ValidFixtures))]
    public void Valid_fixture_survives_the_trip_to_the_daemon(string name)
    {
        var policy = Compile("valid", name).Policy!;

        var received = CompiledPolicy.FromJson(policy.ToJson());

        Assert.Equal(policy.Hash, received.Hash);
        Assert.Equal(policy.ToCanonicalJson(), received.ToCanonicalJson());
    }

    [Theory]
    [MemberData(nameof(InvalidFixtures))]
    public void Invalid_fixture_reports_every_expected_error(string name)
    {
        var result = Compile("invalid", name);

        Assert.False(result.IsValid);
        Assert.Equal(Expected("invalid", name), Describe(result));
    }

    [Theory]
    [MemberData(nameof(InvalidFixtures))]
    public void Every_error_has_a_position_a_finding_and_an_expectation(string name)
    {
        foreach (var error in Compile("invalid", name).Errors)
        {
            Assert.Equal(name, error.Location.File);
            Assert.True(error.Location.Line >= 1 && error.Location.Column >= 1);
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
            Assert.False(string.IsNullOrWhiteSpace(error.Found));
            Assert.False(string.IsNullOrWhiteSpace(error.Expected));
            Assert.Contains(error.Reason, new[] { ReasonCode.PolicyInvalid, ReasonCode.PolicyConflict });
        }
    }

    private static PolicyCompileResult Compile(string kind, string name)
    {
        var options = new PolicyCompileOptions { RepositoryFiles = new DirectoryRepositoryFiles(Path.Combine(FixtureRoot, "repo")) };
        return PolicyCompiler.Compile(File.ReadAllBytes(Path.Combine(FixtureRoot, kind, name)), name, options);
    }

    private static List<string> Describe(PolicyCompileResult result) =>
        [.. result.Diagnostics.Select(d =>
            $"{(d.Severity == DiagnosticSeverity.Error ? "error" : "warning")} {d.Location.Line}:{d.Location.Column} "
            + $"{(d.KeyPath.Length == 0 ? "-" : d.KeyPath)} {d.Code}")];

    private static List<string> Expected(string kind, string name)
    {
        var path = Path.Combine(FixtureRoot, kind, Path.ChangeExtension(name, ".expected"));
        if (!File.Exists(path))
        {
            Assert.Equal("valid", kind);
            return [];
        }

        return [.. File.ReadAllLines(path).Where(line => line.Length > 0 && !line.StartsWith('#'))];
    }

    private static TheoryData<string> Names(string kind) =>
        [.. Directory.GetFiles(Path.Combine(FixtureRoot, kind), "*.yaml").Select(path => Path.GetFileName(path)).Order(StringComparer.Ordinal)];
}
