using System.Net;
using Cleanroom.Network.Firewall;
using Cleanroom.Network.Guard.Queue;
using Cleanroom.Network.Links;
using Cleanroom.Network.Tests.Support;
using Cleanroom.TestSupport;

namespace Cleanroom.Network.Tests.Firewall;

/// <summary>The table in queue guard mode, applied by the real nft with the NFQUEUE rule installed over netlink.</summary>
public sealed class FirewallRulesQueueModeTests
{
    private static readonly NetworkOptions Options = new() { Pool6 = NetworkOptions.DefaultPool6, GuardMode = GuardMode.Queue, QueueNumber = 7400 };
    private static readonly LinkAddressPool Pool = new(Options.Pool, Options.TapPrefix, Options.Pool6);
    private readonly FirewallRules _rules = new(Options);

    [Fact]
    public void Learned_tcp_is_queued_until_marked_instead_of_redirected_and_the_table_still_changes_and_goes()
    {
        using var ns = NetworkNamespace.Create("fwq");
        var policy = TestNetworkPolicies.Compile("[example.test:443]");
        var sandbox = new SandboxFirewall(Pool.LinkAt(0, "sandbox-a"), policy, AllowAll: false);
        var allowAll = new SandboxFirewall(Pool.LinkAt(1, "sandbox-b"), policy, AllowAll: true);

        ns.RunWithInput(_rules.Base(), "nft", "-f", "-");
        QueueRuleInstaller.Install(Options.TableName, Options.QueueNumber, $"/run/netns/{ns.Name}");
        ns.RunWithInput(_rules.AddSandbox(sandbox), "nft", "-f", "-");
        ns.RunWithInput(_rules.AddSandbox(allowAll), "nft", "-f", "-");
        ns.RunWithInput(_rules.AddLearned(0, [new(IPAddress.Parse("192.0.2.7"), 443)]), "nft", "-f", "-");
        var table = ns.Run("nft", "list", "table", "inet", "cleanroom");

        // The rule the daemon installs is first in its chain, before the drop that stands in for it.
        Assert.Matches(@"chain guard_queue \{\s+queue num 7400\s+drop\s+\}", table);
        Assert.Contains("ct mark & 0x07000000 == 0x01000000 jump guard_queue", table, StringComparison.Ordinal);
        Assert.Contains("ct mark & 0x04000000 == 0x04000000 meta l4proto tcp reject with tcp reset", table, StringComparison.Ordinal);
        Assert.Contains("ip daddr . tcp dport @sb0_learned ct mark & 0x06000000 == 0x00000000 ct mark set ct mark | 0x01000000 jump guard_queue", table, StringComparison.Ordinal);
        Assert.Contains("ip6 daddr . tcp dport @sb0_learned6 ct mark & 0x02000000 == 0x02000000 accept", table, StringComparison.Ordinal);
        Assert.DoesNotContain($"redirect to :{Options.GuardPort}", table, StringComparison.Ordinal);
        Assert.Contains("meta l4proto { tcp, udp } ip daddr . th dport @sb1_learned accept", table, StringComparison.Ordinal); // allow-all: not queued
        var pending = table.IndexOf("jump guard_queue", StringComparison.Ordinal);
        Assert.True(pending < table.IndexOf("ct state established,related accept\n\t\tiifname vmap @egress_by_tap", StringComparison.Ordinal), "pending connections are queued before established ones are accepted");

        ns.RunWithInput(_rules.RemoveSandbox(0, sandbox.Link.TapName), "nft", "-f", "-");
        ns.RunWithInput(_rules.RemoveSandbox(1, allowAll.Link.TapName), "nft", "-f", "-");
        Assert.DoesNotContain("sb0", ns.Run("nft", "list", "table", "inet", "cleanroom"), StringComparison.Ordinal);

        // A restart replaces the table (the rule goes with it, to be installed again); shutdown removes it.
        ns.RunWithInput(_rules.Base(), "nft", "-f", "-");
        Assert.DoesNotContain("queue num", ns.Run("nft", "list", "table", "inet", "cleanroom"), StringComparison.Ordinal);
        ns.RunWithInput(_rules.DeleteTable(), "nft", "-f", "-");
        Assert.DoesNotContain("cleanroom", ns.Run("nft", "list", "ruleset"), StringComparison.Ordinal);
    }
}
