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
}
