namespace Cleanroom.Policy.Tests;

/// <summary>
/// <see cref="NetworkPolicy.MayResolve"/>: the DNS filter resolves a name exactly when <see cref="NetworkPolicy.Evaluate"/>
/// allows it on some port, and never resolves address literals.
/// </summary>
public sealed class MayResolveTests
{
    private static readonly NetworkPolicy Network = TestPolicies.CompileValid(TestPolicies.WithNetwork(
        allow: """[api.github.com:443, "*.example.com:443", "*.cdn.test:80", 10.1.2.3:5432, "10.0.0.0/8:22"]""",
        deny: """["secret.example.com", "blocked.cdn.test:80", "half.example.com:80"]""")).Network;

    [Theory]
    [InlineData("api.github.com", true)]
    [InlineData("API.GitHub.com.", true)]
    [InlineData("github.com", false)]
    [InlineData("a.example.com", true)]
    [InlineData("a.b.example.com", true)]
    [InlineData("example.com", false)]
    [InlineData("secret.example.com", false)]
    [InlineData("x.secret.example.com", true)]
    [InlineData("blocked.cdn.test", false)]
    [InlineData("other.cdn.test", true)]
    [InlineData("half.example.com", true)]
    [InlineData("10.1.2.3", false)]
    [InlineData("10.9.9.9", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("", false)]
    [InlineData("not a name", false)]
    [InlineData("*.example.com", false)]
    [InlineData("4.3.2.1.in-addr.arpa", false)]
    public void Names_are_resolvable_when_some_port_is_allowed(string name, bool expected)
    {
        Assert.Equal(expected, Network.MayResolve(name));
    }

    [Fact]
    public void Agrees_with_Evaluate_on_every_port()
    {
        foreach (var name in new[] { "api.github.com", "a.example.com", "secret.example.com", "blocked.cdn.test", "half.example.com", "nowhere.test" })
        {
            var anyPort = Enumerable.Range(1, 65535).Any(port => Network.Evaluate(name, port).IsAllowed);
            Assert.Equal(anyPort, Network.MayResolve(name));
        }
    }

    [Fact]
    public void Default_allow_resolves_everything_but_names_denied_on_all_ports()
    {
        var open = TestPolicies.CompileValid(TestPolicies.WithNetwork("[]", "[tracker.example.com, \"ads.example.com:80\"]"))
            .WithNetworkDefault(NetworkDefault.Allow).Network;

        Assert.True(open.MayResolve("anything.example.org"));
        Assert.True(open.MayResolve("ads.example.com"));
        Assert.False(open.MayResolve("tracker.example.com"));
        Assert.False(open.MayResolve("10.1.2.3"));
    }

    [Fact]
    public void Reverse_lookups_are_names_like_any_other()
    {
        var network = TestPolicies.CompileValid(TestPolicies.WithNetwork("""["*.in-addr.arpa:443"]""")).Network;

        Assert.True(network.MayResolve("4.3.2.1.in-addr.arpa"));
        Assert.False(network.MayResolve("ip6.arpa"));
    }

    [Theory]
    [InlineData("api.github.com", new[] { 443 })]
    [InlineData("a.example.com", new[] { 443 })]
    [InlineData("other.cdn.test", new[] { 80 })]
    [InlineData("blocked.cdn.test", new int[0])]
    [InlineData("secret.example.com", new int[0])]
    [InlineData("nowhere.test", new int[0])]
    [InlineData("10.1.2.3", new int[0])]
    public void The_ports_a_name_may_use_are_those_its_allow_rules_name_minus_denials(string name, int[] expected)
    {
        Assert.Equal(expected, Network.AllowedPorts(name));
    }
}
