namespace Cleanroom.Policy.Tests;

/// <summary>The semantics of <see cref="NetworkPolicy.Evaluate"/>, as documented in docs/policy.md.</summary>
public sealed class NetworkMatchingTests
{
    private static readonly NetworkPolicy Network = TestPolicies.CompileValid(TestPolicies.WithNetwork(
        allow: """
            [api.github.com:443, "*.example.com:443", "*.deep.example.com:443", www.example.com:443,
                    10.0.0.0/8:5432, 10.1.2.3:5432, 192.168.0.0/16:22, bücher.example:443,
                    {host: "2001:db8::/32", ports: [443]}, {host: "*.cdn.test", ports: [80, 443]}]
            """,
        deny: """["secret.example.com", "10.9.0.0/16:5432", "blocked.cdn.test:80"]""")).Network;

    public static TheoryData<string, int, bool, NetworkDecisionSource, string?> Cases() => new()
    {
        // Exact host and port.
        { "api.github.com", 443, true, NetworkDecisionSource.AllowRule, "api.github.com" },
        { "api.github.com", 80, false, NetworkDecisionSource.Default, null },
        { "github.com", 443, false, NetworkDecisionSource.Default, null },
        { "evilapi.github.com", 443, false, NetworkDecisionSource.Default, null },

        // The query is normalised like the rules.
        { "API.GitHub.COM.", 443, true, NetworkDecisionSource.AllowRule, "api.github.com" },
        { "  api.github.com ", 443, true, NetworkDecisionSource.AllowRule, "api.github.com" },
        { "BÜCHER.example", 443, true, NetworkDecisionSource.AllowRule, "xn--bcher-kva.example" },
        { "xn--bcher-kva.example", 443, true, NetworkDecisionSource.AllowRule, "xn--bcher-kva.example" },

        // Wildcards: any depth below the domain, never the domain itself.
        { "a.example.com", 443, true, NetworkDecisionSource.AllowRule, "*.example.com" },
        { "a.b.c.example.com", 443, true, NetworkDecisionSource.AllowRule, "*.example.com" },
        { "example.com", 443, false, NetworkDecisionSource.Default, null },
        { "notexample.com", 443, false, NetworkDecisionSource.Default, null },
        { "example.com.evil.org", 443, false, NetworkDecisionSource.Default, null },

        // Exact beats wildcard, and a longer wildcard beats a shorter one.
        { "www.example.com", 443, true, NetworkDecisionSource.AllowRule, "www.example.com" },
        { "x.deep.example.com", 443, true, NetworkDecisionSource.AllowRule, "*.deep.example.com" },

        // Deny beats allow, whatever the specificity of the allow rule.
        { "secret.example.com", 443, false, NetworkDecisionSource.DenyRule, "secret.example.com" },
        { "blocked.cdn.test", 80, false, NetworkDecisionSource.DenyRule, "blocked.cdn.test" },
        { "blocked.cdn.test", 443, true, NetworkDecisionSource.AllowRule, "*.cdn.test" },
        { "10.9.1.1", 5432, false, NetworkDecisionSource.DenyRule, "10.9.0.0/16" },

        // IP literals match only IP and CIDR rules; the longest prefix is reported.
        { "10.200.3.4", 5432, true, NetworkDecisionSource.AllowRule, "10.0.0.0/8" },
        { "10.1.2.3", 5432, true, NetworkDecisionSource.AllowRule, "10.1.2.3" },
        { "10.1.2.3", 443, false, NetworkDecisionSource.Default, null },
        { "11.0.0.1", 5432, false, NetworkDecisionSource.Default, null },
        { "192.168.44.1", 22, true, NetworkDecisionSource.AllowRule, "192.168.0.0/16" },
        { "::ffff:10.1.2.3", 5432, true, NetworkDecisionSource.AllowRule, "10.1.2.3" },
        { "[2001:db8::42]", 443, true, NetworkDecisionSource.AllowRule, "2001:db8::/32" },
        { "2001:DB8:0:0::1", 443, true, NetworkDecisionSource.AllowRule, "2001:db8::/32" },
        { "2001:db9::1", 443, false, NetworkDecisionSource.Default, null },

        // Names never match address rules, even when they look like addresses.
        { "10.1.2.3.nip.io", 5432, false, NetworkDecisionSource.Default, null },

        // Anything that is not a clean host and port is refused outright.
        { "", 443, false, NetworkDecisionSource.InvalidDestination, null },
        { "*.example.com", 443, false, NetworkDecisionSource.InvalidDestination, null },
        { "api.github.com:443", 443, false, NetworkDecisionSource.InvalidDestination, null },
        { "https://api.github.com", 443, false, NetworkDecisionSource.InvalidDestination, null },
        { "127.1", 443, false, NetworkDecisionSource.InvalidDestination, null },
        { "0x7f.0.0.1", 443, false, NetworkDecisionSource.InvalidDestination, null },
        { "012.1.2.3", 5432, false, NetworkDecisionSource.InvalidDestination, null },
        { "fe80::1%eth0", 443, false, NetworkDecisionSource.InvalidDestination, null },
        { "api.github.com", 0, false, NetworkDecisionSource.InvalidDestination, null },
        { "api.github.com", 65536, false, NetworkDecisionSource.InvalidDestination, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Evaluate_follows_the_documented_rules(string host, int port, bool allowed, NetworkDecisionSource source, string? rule)
    {
        var decision = Network.Evaluate(host, port);

        Assert.Equal(allowed, decision.IsAllowed);
        Assert.Equal(source, decision.Source);
        Assert.Equal(rule, decision.Rule?.Host.Value);
        Assert.Equal(allowed ? ReasonCode.Unspecified : ReasonCode.HostNotAllowed, decision.Reason);
    }

    [Fact]
    public void Default_allow_lets_unmatched_traffic_through_but_deny_still_wins()
    {
        var open = TestPolicies.CompileValid(TestPolicies.WithNetwork("[]", "[tracker.example.com]"))
            .WithNetworkDefault(NetworkDefault.Allow);

        Assert.True(open.Evaluate("anything.example.org", 443).IsAllowed);
        Assert.Equal(NetworkDecisionSource.Default, open.Evaluate("anything.example.org", 443).Source);
        Assert.False(open.Evaluate("tracker.example.com", 443).IsAllowed);
        Assert.False(open.Evaluate("not a host", 443).IsAllowed);
    }

    [Fact]
    public void Default_allow_in_the_file_needs_the_override()
    {
        var yaml = TestPolicies.WithSandbox("  network:\n    default: allow\n");

        var refused = TestPolicies.CompileInvalid(yaml);
        var allowed = TestPolicies.CompileValid(yaml, new PolicyCompileOptions { AllowDefaultAllow = true });

        Assert.Equal(PolicyErrorKind.DefaultAllowNotPermitted, Assert.Single(refused.Errors).Kind);
        Assert.Equal(ReasonCode.PolicyConflict, Assert.Single(refused.Errors).Reason);
        Assert.Equal(NetworkDefault.Allow, allowed.Network.Default);
    }

    [Fact]
    public void Empty_network_denies_everything()
    {
        var policy = TestPolicies.CompileValid(TestPolicies.WithSandbox());

        Assert.False(policy.Evaluate("api.github.com", 443).IsAllowed);
        Assert.False(policy.Evaluate("10.0.0.1", 443).IsAllowed);
    }

    [Theory]
    [InlineData("[api.example.com:443]", "[\"*.example.com\"]")]
    [InlineData("[api.example.com:443]", "[api.example.com:443]")]
    [InlineData("[\"*.a.example.com:443\"]", "[\"*.example.com:443\"]")]
    [InlineData("[10.1.2.3:80]", "[10.0.0.0/8]")]
    [InlineData("[10.1.0.0/16:80]", "[10.0.0.0/8:80]")]
    [InlineData("[{host: example.com, ports: [80, 443]}]", "[example.com:443]")]
    public void Allow_rules_that_a_deny_rule_covers_are_conflicts(string allow, string deny)
    {
        var result = TestPolicies.CompileInvalid(TestPolicies.WithNetwork(allow, deny));

        var error = Assert.Single(result.Errors);
        Assert.Equal(PolicyErrorKind.ShadowedRule, error.Kind);
        Assert.Equal(ReasonCode.PolicyConflict, error.Reason);
        Assert.Equal("sandbox.network.allow[0]", error.KeyPath);
    }

    [Theory]
    [InlineData("[\"*.example.com:443\"]", "[api.example.com]")]
    [InlineData("[example.com:443]", "[\"*.example.com\"]")]
    [InlineData("[api.example.com:443]", "[api.example.com:80]")]
    [InlineData("[10.0.0.0/8:80]", "[10.1.2.3]")]
    [InlineData("[\"*.example.com:443\"]", "[\"*.a.example.com\"]")]
    public void Deny_rules_narrower_than_an_allow_rule_are_fine(string allow, string deny)
    {
        TestPolicies.CompileValid(TestPolicies.WithNetwork(allow, deny));
    }

    [Fact]
    public void Rules_are_merged_per_host_and_sorted()
    {
        var network = TestPolicies.CompileValid(TestPolicies.WithNetwork(
            "[zeta.example:443, alpha.example:80, ALPHA.example.:443, {host: alpha.example, ports: [22, 80]}]")).Network;

        Assert.Equal(["alpha.example:22,80,443", "zeta.example:443"], network.Allow.Select(r => r.ToString()));
    }
}
