using System.Net;
using Cleanroom.Network.Firewall;
using Cleanroom.Network.Links;
using Cleanroom.Network.Tests.Support;
using Cleanroom.TestSupport;

namespace Cleanroom.Network.Tests.Firewall;

/// <summary>The rendered scripts, applied by the real nft inside a namespace of the test's own.</summary>
public sealed class FirewallRulesTests
{
    private static readonly NetworkOptions Options = new();
    private static readonly LinkAddressPool Pool = new(Options.Pool, Options.TapPrefix);
    private readonly FirewallRules _rules = new(Options);

    [Fact]
    public void A_sandbox_is_added_learns_addresses_and_is_removed_without_a_trace()
    {
        using var ns = NetworkNamespace.Create("fw");
        var policy = TestNetworkPolicies.Compile(
            """[example.test:443, "*.example.test:80", {host: 10.9.0.0/16, ports: [80, 8080]}, {host: "169.254.169.254", ports: [80]}]""",
            "[10.9.9.9, {host: 10.9.8.0/24, ports: [8080]}]");
        var first = new SandboxFirewall(Pool.LinkAt(0, "sandbox-a"), policy, AllowAll: false);
        var second = new SandboxFirewall(Pool.LinkAt(1, "sandbox-b"), policy, AllowAll: true);

        ns.RunWithInput(_rules.Base(), "nft", "-f", "-");
        ns.RunWithInput(_rules.AddSandbox(first), "nft", "-f", "-");
        ns.RunWithInput(_rules.AddSandbox(second), "nft", "-f", "-");
        ns.RunWithInput(_rules.AddLearned(0, [new(IPAddress.Parse("192.0.2.7"), 443), new(IPAddress.Parse("192.0.2.8"), 443)]), "nft", "-f", "-");
        var table = ns.Run("nft", "list", "table", "inet", "cleanroom");

        Assert.Contains("\"crtap0\" : jump sb0_guard", table, StringComparison.Ordinal);
        Assert.Contains("\"crtap1\" : jump sb1_egress", table, StringComparison.Ordinal);
        Assert.Contains("ether saddr != " + first.Link.Mac, table, StringComparison.Ordinal);
        Assert.Contains("ip saddr != 10.213.0.2", table, StringComparison.Ordinal);
        Assert.Contains("192.0.2.7 . 443", table, StringComparison.Ordinal);
        Assert.Contains("ip daddr 10.9.9.9", table, StringComparison.Ordinal);

        ns.RunWithInput(_rules.RemoveLearned(0, [new(IPAddress.Parse("192.0.2.7"), 443)]), "nft", "-f", "-");
        table = ns.Run("nft", "list", "table", "inet", "cleanroom");
        Assert.DoesNotContain("192.0.2.7 . 443", table, StringComparison.Ordinal);
        Assert.Contains("192.0.2.8 . 443", table, StringComparison.Ordinal);

        ns.RunWithInput(_rules.RemoveSandbox(0, first.Link.TapName), "nft", "-f", "-");
        ns.RunWithInput(_rules.RemoveSandbox(1, second.Link.TapName), "nft", "-f", "-");
        table = ns.Run("nft", "list", "table", "inet", "cleanroom");
        Assert.DoesNotContain("sb0", table, StringComparison.Ordinal);
        Assert.DoesNotContain("sb1", table, StringComparison.Ordinal);

        // Start-up replaces whatever an earlier daemon left, and leaves other tables alone.
        ns.RunWithInput("table inet someone_else {\n chain c {\n type filter hook input priority 0;\n }\n}\n", "nft", "-f", "-");
        ns.RunWithInput(_rules.AddSandbox(first), "nft", "-f", "-");
        ns.RunWithInput(_rules.Base(), "nft", "-f", "-");
        var ruleset = ns.Run("nft", "list", "ruleset");
        Assert.DoesNotContain("sb0", ruleset, StringComparison.Ordinal);
        Assert.Contains("table inet someone_else", ruleset, StringComparison.Ordinal);

        // Shutdown removes the table and nothing else; twice is harmless.
        ns.RunWithInput(_rules.DeleteTable(), "nft", "-f", "-");
        ns.RunWithInput(_rules.DeleteTable(), "nft", "-f", "-");
        ruleset = ns.Run("nft", "list", "ruleset");
        Assert.DoesNotContain("cleanroom", ruleset, StringComparison.Ordinal);
        Assert.Contains("table inet someone_else", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public void With_IPv6_a_sandbox_gets_an_IPv6_set_guard_and_rules_and_loses_them_again()
    {
        using var ns = NetworkNamespace.Create("fw6");
        var options = new NetworkOptions { Pool6 = NetworkOptions.DefaultPool6 };
        var rules = new FirewallRules(options);
        var pool = new LinkAddressPool(options.Pool, options.TapPrefix, options.Pool6);
        var policy = TestNetworkPolicies.Compile("""[example.test:443, {host: "2001:db8::/32", ports: [80]}]""", """[{host: "2001:db8::9"}]""");
        var sandbox = new SandboxFirewall(pool.LinkAt(2, "sandbox-a"), policy, AllowAll: false);

        ns.RunWithInput(rules.Base(), "nft", "-f", "-");
        ns.RunWithInput(rules.AddSandbox(sandbox), "nft", "-f", "-");
        ns.RunWithInput(rules.AddLearned(2, [new(IPAddress.Parse("2001:db8:1::7"), 443), new(IPAddress.Parse("192.0.2.7"), 443)]), "nft", "-f", "-");
        var table = ns.Run("nft", "list", "table", "inet", "cleanroom");

        Assert.Equal(IPAddress.Parse("fd63:6c65:616e::a"), sandbox.Link.GuestAddress6);
        Assert.Contains("ip6 saddr != fd63:6c65:616e::a", table, StringComparison.Ordinal);
        Assert.Contains("2001:db8:1::7 . 443", table, StringComparison.Ordinal); // in sb2_learned6
        Assert.Contains("192.0.2.7 . 443", table, StringComparison.Ordinal);     // in sb2_learned
        Assert.Contains("ip6 daddr 2001:db8::9", table, StringComparison.Ordinal);
        Assert.Contains("ip6 saddr fd63:6c65:616e::/64", table, StringComparison.Ordinal); // masquerade
        Assert.Contains("fd00:ec2::254", table, StringComparison.Ordinal);

        ns.RunWithInput(rules.RemoveSandbox(2, sandbox.Link.TapName), "nft", "-f", "-");
        Assert.DoesNotContain("sb2", ns.Run("nft", "list", "table", "inet", "cleanroom"), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_IPv6_guests_IPv6_is_dropped_and_IPv6_rules_render_nothing()
    {
        var policy = TestNetworkPolicies.Compile("""[{host: "2001:db8::/32", ports: [80]}]""");
        var sandbox = new SandboxFirewall(Pool.LinkAt(0, "sandbox-a"), policy, AllowAll: true);
        var script = _rules.AddSandbox(sandbox);

        Assert.Null(sandbox.Link.GuestAddress6);
        Assert.Single(sandbox.Link.KernelArguments);
        Assert.Contains("meta nfproto != ipv4 drop", script, StringComparison.Ordinal);
        Assert.DoesNotContain("ip6", script, StringComparison.Ordinal);
        Assert.DoesNotContain("learned6", script, StringComparison.Ordinal);
        Assert.Equal(string.Empty, _rules.AddLearned(0, [new(IPAddress.Parse("2001:db8::7"), 80)]));
    }

    [Fact]
    public void The_gateway_redirect_is_rendered_only_with_a_gateway_port_and_can_be_emptied()
    {
        using var ns = NetworkNamespace.Create("fwgw");
        ns.RunWithInput(_rules.Base(), "nft", "-f", "-");
        var table = ns.Run("nft", "list", "table", "inet", "cleanroom");
        Assert.Contains("tcp dport 8170 redirect to :10055", table, StringComparison.Ordinal);
        Assert.Contains("tcp dport 10055 ct status dnat accept", table, StringComparison.Ordinal);
        Assert.Contains("10053, 10054, 10055", table, StringComparison.Ordinal); // dropped unless from lo or a guest

        ns.RunWithInput(_rules.WithoutGateway(), "nft", "-f", "-");
        table = ns.Run("nft", "list", "table", "inet", "cleanroom");
        Assert.DoesNotContain("8170", table, StringComparison.Ordinal);
        Assert.Contains("chain guest_gateway", table, StringComparison.Ordinal);

        var without = new FirewallRules(Options with { GatewayPort = null });
        Assert.DoesNotContain("guest_gateway", without.Base(), StringComparison.Ordinal);
        Assert.DoesNotContain("10055", without.Base(), StringComparison.Ordinal);
        Assert.Equal(string.Empty, without.WithoutGateway());
        ns.RunWithInput(without.Base(), "nft", "-f", "-");
        Assert.DoesNotContain("8170", ns.Run("nft", "list", "table", "inet", "cleanroom"), StringComparison.Ordinal);
    }
}
