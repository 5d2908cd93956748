namespace Cleanroom.Policy.Tests;

/// <summary>Finding the policy file and loading it from disk.</summary>
public sealed class DiscoveryTests
{
    [Fact]
    public void The_root_file_is_found()
    {
        using var repo = new TemporaryDirectory();
        var path = repo.Write("cleanroom.yaml", TestPolicies.WithSandbox());

        var found = PolicyDiscovery.Discover(repo.Path);

        Assert.Equal(path, found.PolicyPath);
        Assert.Empty(found.Diagnostics);
    }

    [Fact]
    public void The_buildkite_file_is_the_fallback()
    {
        using var repo = new TemporaryDirectory();
        var path = repo.Write(".buildkite/cleanroom.yaml", TestPolicies.WithSandbox());

        Assert.Equal(path, PolicyDiscovery.Discover(repo.Path).PolicyPath);
    }

    [Fact]
    public void The_root_file_wins_and_the_ignored_one_is_named()
    {
        using var repo = new TemporaryDirectory();
        var root = repo.Write("cleanroom.yaml", TestPolicies.WithSandbox());
        var ignored = repo.Write(".buildkite/cleanroom.yaml", TestPolicies.WithSandbox());

        var found = PolicyDiscovery.Discover(repo.Path);

        Assert.Equal(root, found.PolicyPath);
        var warning = Assert.Single(found.Diagnostics);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal(PolicyErrorKind.IgnoredPolicyFile, warning.Kind);
        Assert.Equal(ignored, warning.Location.File);
        Assert.Contains(".buildkite/cleanroom.yaml", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_policy_is_an_error_that_suggests_init()
    {
        using var repo = new TemporaryDirectory();

        var found = PolicyDiscovery.Discover(repo.Path);

        Assert.False(found.Found);
        var error = Assert.Single(found.Diagnostics);
        Assert.Equal(PolicyErrorKind.PolicyNotFound, error.Kind);
        Assert.Contains("cleanroom policy init", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misnamed_file_is_pointed_out()
    {
        using var repo = new TemporaryDirectory();
        repo.Write("cleanroom.yml", TestPolicies.WithSandbox());

        Assert.Contains("cleanroom.yml", Assert.Single(PolicyDiscovery.Discover(repo.Path).Diagnostics).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_explicit_file_overrides_discovery_and_resolves_against_the_directory()
    {
        using var repo = new TemporaryDirectory();
        repo.Write("cleanroom.yaml", TestPolicies.WithSandbox());
        var other = repo.Write("ci/other.yaml", TestPolicies.WithSandbox());

        var found = PolicyDiscovery.Discover(repo.Path, "ci/other.yaml");

        Assert.Equal(other, found.PolicyPath);
        Assert.Empty(found.Diagnostics);
        Assert.False(PolicyDiscovery.Discover(repo.Path, "ci/missing.yaml").Found);
    }

    [Fact]
    public void Loading_checks_inputs_against_the_repository_directory()
    {
        using var repo = new TemporaryDirectory();
        repo.Write("package-lock.json", "{}");
        repo.Write(".buildkite/cleanroom.yaml", TestPolicies.WithSandbox(
            "  dependencies:\n    - name: node\n      command: npm ci\n      inputs: {files: [package-lock.json, yarn.lock]}\n"));

        var result = PolicyLoader.Load(new PolicyLoadOptions { Directory = repo.Path });

        var error = Assert.Single(result.Errors);
        Assert.Equal(PolicyErrorKind.InputNotFound, error.Kind);
        Assert.Equal("sandbox.dependencies[0].inputs.files[1]", error.KeyPath);
        Assert.EndsWith(Path.Combine(".buildkite", "cleanroom.yaml"), error.Location.File, StringComparison.Ordinal);
    }

    [Fact]
    public void Loading_a_valid_policy_returns_it_with_discovery_warnings()
    {
        using var repo = new TemporaryDirectory();
        repo.Write("cleanroom.yaml", TestPolicies.WithSandbox());
        repo.Write(".buildkite/cleanroom.yaml", "not: even: valid");

        var result = PolicyLoader.Load(new PolicyLoadOptions { Directory = repo.Path });

        Assert.True(result.IsValid);
        Assert.Equal(Path.Combine(repo.Path, "cleanroom.yaml"), result.SourcePath);
        Assert.Equal(PolicyErrorKind.IgnoredPolicyFile, Assert.Single(result.Warnings).Kind);
    }
}
