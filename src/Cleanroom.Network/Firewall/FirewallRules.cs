using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Cleanroom.Network.Guard.Queue;
using Cleanroom.Policy;

namespace Cleanroom.Network.Firewall;

/// <summary>
/// Renders Cleanroom's one nftables table as <c>nft -f</c> scripts. Pure text: no host state is read, so every
/// ruleset can be checked by a test (and by <c>nft -c</c>). Each script is applied as one atomic transaction.
/// <para>Layout: guests' packets are steered by their TAP's name through verdict maps into chains of their own
/// (<c>sb{N}_guard</c> before routing: right MAC and source address or drop; <c>sb{N}_egress</c> when forwarded:
/// deny rules, explicit address rules, always-blocked ranges, the addresses learned from allowed DNS answers).
/// Guests reach the host only for DNS (redirected to the filter), the connection guard and the gateway (port 8170
/// redirected to <see cref="NetworkOptions.GatewayPort"/>); nothing reaches a guest unless it is a reply.</para>
/// </summary>
public sealed class FirewallRules(NetworkOptions options)
{
    /// <summary>Ranges no sandbox reaches unless an address rule names them explicitly.</summary>
    public static readonly IReadOnlyList<string> AlwaysBlocked4 =
        ["0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "255.255.255.255"];

    /// <summary><see cref="AlwaysBlocked4"/> as networks, for code that checks addresses itself.</summary>
    public static readonly IReadOnlyList<IPNetwork> AlwaysBlockedNetworks4 =
        [.. AlwaysBlocked4.Select(text => IPNetwork.Parse(text.Contains('/', StringComparison.Ordinal) ? text : text + "/32"))];

    /// <summary>
    /// The IPv6 counterpart of <see cref="AlwaysBlocked4"/>: unspecified, loopback, IPv4-mapped (never valid on the
    /// wire), link-local, multicast, the EC2 metadata address, and the NAT64 forms of IPv4 loopback and link-local (a
    /// DNS64 resolver would otherwise turn 169.254.169.254 into an IPv6 destination).
    /// </summary>
    public static readonly IReadOnlyList<string> AlwaysBlocked6 =
        ["::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::7f00:0/104", "64:ff9b::a9fe:0/112", "fe80::/10", "ff00::/8", "fd00:ec2::254/128"];

    /// <summary><see cref="AlwaysBlocked6"/> as networks.</summary>
    public static readonly IReadOnlyList<IPNetwork> AlwaysBlockedNetworks6 = [.. AlwaysBlocked6.Select(text => IPNetwork.Parse(text))];

    /// <summary>Both families' always-blocked ranges, for code that checks addresses itself.</summary>
    public static readonly IReadOnlyList<IPNetwork> AlwaysBlockedNetworks = [.. AlwaysBlockedNetworks4, .. AlwaysBlockedNetworks6];

    private const string LogRate = "limit rate 20/second burst 40 packets";

    private string Table => "inet " + options.TableName;

    private string Taps => Quote(options.TapPrefix + "*");

    /// <summary>Whether guests have IPv6 (<see cref="NetworkOptions.Pool6"/>); without it, every IPv6 packet from a guest is dropped.</summary>
    private bool Ipv6 => options.Pool6 is not null;

    /// <summary>Removes whatever an earlier daemon left and creates the empty table (start-up and reconcile).</summary>
    public string Base()
    {
        var dns = options.DnsPort.ToString(CultureInfo.InvariantCulture);
        var guard = options.GuardPort.ToString(CultureInfo.InvariantCulture);
        var gateway = options.GatewayPort?.ToString(CultureInfo.InvariantCulture);
        var hostPorts = gateway is null ? $"{dns}, {guard}" : $"{dns}, {guard}, {gateway}";
        var log = Log("guest to host");
        return $$"""
            table {{Table}} {}
            delete table {{Table}}
            table {{Table}} {
              map guard_by_tap {
                type ifname : verdict
              }
              map egress_by_tap {
                type ifname : verdict
              }
              map nat_by_tap {
                type ifname : verdict
              }
              chain guest_guard {
                type filter hook prerouting priority raw; policy accept;
                iifname {{Taps}} iifname vmap @guard_by_tap
                iifname {{Taps}} drop
              }
              chain guest_dns {
                type nat hook prerouting priority dstnat; policy accept;
                iifname {{Taps}} fib daddr type local meta l4proto { tcp, udp } th dport 53 redirect to :{{dns}}
                {{(gateway is null ? "" : $"iifname {Taps} jump {GatewayChain}")}}
                iifname {{Taps}} iifname vmap @nat_by_tap
              }
              {{(gateway is null ? "" : $"chain {GatewayChain} {{\n    fib daddr type local tcp dport {GatewayGuestPort} redirect to :{gateway}\n  }}")}}
              chain host_input {
                type filter hook input priority filter; policy accept;
                iifname {{Taps}} jump guest_to_host
                meta l4proto { tcp, udp } th dport { {{hostPorts}} } iifname != "lo" drop
              }
              chain guest_to_host {
                ct state established,related accept
                {{NeighbourDiscovery}}
                meta l4proto { tcp, udp } th dport {{dns}} ct status dnat accept
                tcp dport {{guard}} ct status dnat accept
                {{(gateway is null ? "" : $"tcp dport {gateway} ct status dnat accept")}}
                {{log}}
                {{Refuse}}
              }
              chain guest_forward {
                type filter hook forward priority filter; policy accept;
                iifname {{Taps}} jump guest_egress
                oifname {{Taps}} ct state new drop
                oifname {{Taps}} ct state established,related accept
                oifname {{Taps}} drop
              }
              {{QueueChain}}
              chain guest_egress {
                {{QueueChecks}}
                ct state established,related accept
                iifname vmap @egress_by_tap
                drop
              }
              chain guest_nat {
                type nat hook postrouting priority srcnat; policy accept;
                ip saddr {{options.Pool}} oifname != {{Taps}} masquerade
                {{Masquerade6}}
              }
            }

            """;
    }

    /// <summary>
    /// The chain holding the gateway's redirect, a chain of its own so that <see cref="WithoutGateway"/> can empty it
    /// when the gateway cannot run: the redirect must never lead guests to whatever else holds that host port.
    /// </summary>
    private const string GatewayChain = "guest_gateway";

    private const int GatewayGuestPort = NetworkOptions.GatewayGuestPort;

    /// <summary>
    /// Stops redirecting guests to the gateway (it did not start): its chain is emptied, so port 8170 of the host is
    /// refused like any other host port. Empty when the table has no gateway rules.
    /// </summary>
    public string WithoutGateway() => options.GatewayPort is null ? "" : $"flush chain {Table} {GatewayChain}\n";

    private bool QueueMode => options.GuardMode == GuardMode.Queue;

    private static string Mark(uint bits) => QueueGuardMarks.Hex(bits);

    /// <summary>
    /// Queue mode: the chain the NFQUEUE rule is inserted into (see <see cref="QueueRuleInstaller"/>), ending in a drop
    /// so that without the rule nothing undecided passes. Empty in proxy mode.
    /// </summary>
    private string QueueChain => QueueMode
        ? $"chain {QueueRuleInstaller.Chain} {{\n    drop\n  }}"
        : "";

    /// <summary>
    /// Queue mode, before "established" is accepted: a connection marked pending and not yet decided goes to the
    /// queue (every packet from the guest, whatever its state); one the guard denied gets a reset. A verified one
    /// falls through to the usual accept and never reaches user space again. Empty in proxy mode.
    /// </summary>
    private string QueueChecks => QueueMode
        ? $"ct mark and {Mark(QueueGuardMarks.Mask)} == {Mark(QueueGuardMarks.Pending)} jump {QueueRuleInstaller.Chain}\n    "
          + $"ct mark and {Mark(QueueGuardMarks.Denied)} == {Mark(QueueGuardMarks.Denied)} meta l4proto tcp reject with tcp reset\n    "
          + $"ct mark and {Mark(QueueGuardMarks.Denied)} == {Mark(QueueGuardMarks.Denied)} drop"
        : "";

    /// <summary>Removes the table and everything in it (daemon shutdown); no error when it is already gone.</summary>
    public string DeleteTable() => $"table {Table} {{}}\ndelete table {Table}\n";

    /// <summary>Adds a sandbox's chains and its learned-address set, then routes its TAP into them.</summary>
    public string AddSandbox(SandboxFirewall sandbox)
    {
        var link = sandbox.Link;
        var n = Index(link.Index);
        var script = new StringBuilder();
        script.AppendLine(CultureInfo.InvariantCulture, $"add chain {Table} sb{n}_guard");
        var guard = Block($"ether saddr != {link.Mac}", "spoofed MAC", "drop")
            .Concat(Block($"meta nfproto ipv4 ip saddr != {link.GuestAddress}", "spoofed address", "drop"))
            .Concat(Ipv6 && link.GuestAddress6 is { } guest6
                ? [
                    // Neighbour discovery comes from the card's link-local address and only ever reaches the host
                    // (link-local is never forwarded); everything else must come from the guest's one address.
                    $"ip6 saddr fe80::/10 icmpv6 type {{ {NeighbourDiscoveryTypes} }} ip6 hoplimit 255 accept",
                    .. Block($"meta nfproto ipv6 ip6 saddr != {guest6}", "spoofed address", "drop"),
                    "meta nfproto != { ipv4, ipv6 } drop",
                ]
                : ["meta nfproto != ipv4 drop"])
            .Append("accept"); // a verdict of its own: falling off the end would return to the guard's catch-all drop
        foreach (var rule in guard)
        {
            script.AppendLine(CultureInfo.InvariantCulture, $"add rule {Table} sb{n}_guard {rule}");
        }

        script.AppendLine(CultureInfo.InvariantCulture, $"add set {Table} sb{n}_learned {{ type ipv4_addr . inet_service; }}");
        if (Ipv6)
        {
            script.AppendLine(CultureInfo.InvariantCulture, $"add set {Table} sb{n}_learned6 {{ type ipv6_addr . inet_service; }}");
        }

        script.AppendLine(CultureInfo.InvariantCulture, $"add chain {Table} sb{n}_egress");
        foreach (var rule in EgressRules(sandbox))
        {
            script.AppendLine(CultureInfo.InvariantCulture, $"add rule {Table} sb{n}_egress {rule}");
        }

        // TCP to a destination learned from DNS goes through the connection guard, which checks the name the client
        // sends (TLS server name, HTTP Host). Never for host-local or always-blocked addresses: the guard connects
        // from the host itself, so a name that resolves to them (DNS rebinding) must not turn into a host connection.
        // In queue mode the chain stays empty: the egress chain sends such connections to the queue instead.
        script.AppendLine(CultureInfo.InvariantCulture, $"add chain {Table} sb{n}_nat");
        if (!QueueMode)
        {
            script.AppendLine(CultureInfo.InvariantCulture,
                $"add rule {Table} sb{n}_nat meta l4proto tcp fib daddr type != local ip daddr != {{ {BlockedRanges} }} ip daddr . th dport @sb{n}_learned redirect to :{options.GuardPort.ToString(CultureInfo.InvariantCulture)}");
        }

        if (Ipv6 && !QueueMode)
        {
            script.AppendLine(CultureInfo.InvariantCulture,
                $"add rule {Table} sb{n}_nat meta l4proto tcp fib daddr type != local ip6 daddr != {{ {BlockedRanges6} }} ip6 daddr . th dport @sb{n}_learned6 redirect to :{options.GuardPort.ToString(CultureInfo.InvariantCulture)}");
        }

        script.AppendLine(CultureInfo.InvariantCulture, $"add element {Table} guard_by_tap {{ {Quote(link.TapName)} : jump sb{n}_guard }}");
        script.AppendLine(CultureInfo.InvariantCulture, $"add element {Table} nat_by_tap {{ {Quote(link.TapName)} : jump sb{n}_nat }}");
        script.AppendLine(CultureInfo.InvariantCulture, $"add element {Table} egress_by_tap {{ {Quote(link.TapName)} : jump sb{n}_egress }}");
        return script.ToString();
    }

    /// <summary>Unroutes the TAP, then deletes the sandbox's chains and set (one transaction).</summary>
    public string RemoveSandbox(int linkIndex, string tapName)
    {
        var n = Index(linkIndex);
        return $$"""
            delete element {{Table}} guard_by_tap { {{Quote(tapName)}} }
            delete element {{Table}} egress_by_tap { {{Quote(tapName)}} }
            delete element {{Table}} nat_by_tap { {{Quote(tapName)}} }
            flush chain {{Table}} sb{{n}}_nat
            delete chain {{Table}} sb{{n}}_nat
            flush chain {{Table}} sb{{n}}_guard
            delete chain {{Table}} sb{{n}}_guard
            flush chain {{Table}} sb{{n}}_egress
            delete chain {{Table}} sb{{n}}_egress
            delete set {{Table}} sb{{n}}_learned
            {{(Ipv6 ? $"delete set {Table} sb{n}_learned6" : "")}}

            """;
    }

    /// <summary>Adds destinations learned from an allowed DNS answer (existing ones are left as they are).</summary>
    public string AddLearned(int linkIndex, IEnumerable<LearnedDestination> destinations) =>
        LearnedElements("add", linkIndex, destinations);

    /// <summary>Removes destinations whose answer expired.</summary>
    public string RemoveLearned(int linkIndex, IEnumerable<LearnedDestination> destinations) =>
        LearnedElements("delete", linkIndex, destinations);

    /// <summary>
    /// The egress chain, in order: deny rules on addresses (deny beats allow), allow rules on addresses (the only
    /// way into the always-blocked ranges), the always-blocked ranges and other sandboxes, learned DNS answers, and
    /// for allow-all sandboxes everything else. What is left is logged and dropped by the caller chain.
    /// </summary>
    internal IEnumerable<string> EgressRules(SandboxFirewall sandbox)
    {
        // Other sandboxes and the host ends of their links, whatever a policy says: a repository cannot allow its way
        // into another tenant's guest.
        var lines = Block($"ip daddr {options.Pool}", "another sandbox", Refuse);
        if (options.Pool6 is { } pool6)
        {
            lines = lines.Concat(Block($"ip6 daddr {pool6}", "another sandbox", Refuse));
        }

        // An address rule's family picks its match: without IPv6 an IPv6 rule has nothing to match (the guard chain
        // drops every IPv6 packet), so it is left out rather than rendered.
        var addressRules = (IEnumerable<NetworkRule> rules) => rules.Where(r => IsAddressRule(r) && (Ipv6 || !IsIpv6(r)));
        foreach (var rule in addressRules(sandbox.Policy.Deny))
        {
            var daddr = $"{(IsIpv6(rule) ? "ip6" : "ip")} daddr {rule.Host.Value}";
            var match = rule.AllPorts ? daddr : $"meta l4proto {{ tcp, udp }} {daddr} th dport {Ports(rule)}";
            lines = lines.Concat(Block(match, "denied address", Refuse));
        }

        lines = lines.Concat(addressRules(sandbox.Policy.Allow).Select(rule =>
            $"meta l4proto {{ tcp, udp }} {(IsIpv6(rule) ? "ip6" : "ip")} daddr {rule.Host.Value} th dport {Ports(rule)} accept"));
        lines = lines.Concat(Block($"ip daddr {{ {BlockedRanges} }}", "blocked range", Refuse));
        if (Ipv6)
        {
            lines = lines.Concat(Block($"ip6 daddr {{ {BlockedRanges6} }}", "blocked range", Refuse));
        }

        foreach (var line in lines)
        {
            yield return line;
        }

        var n = Index(sandbox.Link.Index);
        foreach (var (family, set) in Ipv6 ? new[] { ("ip", $"sb{n}_learned"), ("ip6", $"sb{n}_learned6") } : [("ip", $"sb{n}_learned")])
        {
            if (QueueMode && !sandbox.AllowAll)
            {
                // TCP to a learned destination is forwarded, but marked pending and queued until the queue guard has
                // read its first message (the SYN too: it gives the guard the stream's first sequence number). A
                // connection the guard verified is accepted here too (its packets conntrack calls invalid); one
                // without conntrack state cannot be marked, so it is refused below. An allow-all sandbox may reach
                // any name anyway, so its connections are not queued.
                var undecided = $"ct mark and {Mark(QueueGuardMarks.Verified | QueueGuardMarks.Denied)} == 0";
                yield return $"meta l4proto tcp {family} daddr . th dport @{set} {undecided} ct mark set ct mark or {Mark(QueueGuardMarks.Pending)} jump {QueueRuleInstaller.Chain}";
                yield return $"meta l4proto tcp {family} daddr . th dport @{set} ct mark and {Mark(QueueGuardMarks.Verified)} == {Mark(QueueGuardMarks.Verified)} accept";
                yield return $"meta l4proto udp {family} daddr . th dport @{set} accept";
            }
            else
            {
                yield return $"meta l4proto {{ tcp, udp }} {family} daddr . th dport @{set} accept";
            }
        }

        if (sandbox.AllowAll)
        {
            yield return Ipv6 ? "meta nfproto { ipv4, ipv6 } accept" : "meta nfproto ipv4 accept";
        }

        yield return Log("not allowed");
        yield return "meta l4proto tcp reject with tcp reset";
        yield return "reject with icmpx admin-prohibited";
    }

    /// <summary>The always-blocked ranges and the sandbox pool, as an nft set body.</summary>
    private string BlockedRanges => string.Join(", ", AlwaysBlocked4.Append(options.Pool.ToString()));

    /// <summary>The IPv6 always-blocked ranges and the IPv6 pool, as an nft set body.</summary>
    private string BlockedRanges6 => string.Join(", ", options.Pool6 is { } pool6 ? AlwaysBlocked6.Append(pool6.ToString()) : AlwaysBlocked6);

    /// <summary>The ICMPv6 types of neighbour discovery a guest needs to find its gateway and answer it.</summary>
    private const string NeighbourDiscoveryTypes = "nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit";

    /// <summary>Neighbour discovery from a guest to its gateway (an empty line without IPv6).</summary>
    private string NeighbourDiscovery => Ipv6 ? $"icmpv6 type {{ {NeighbourDiscoveryTypes} }} ip6 hoplimit 255 accept" : "";

    private string Masquerade6 => options.Pool6 is { } pool6 ? $"ip6 saddr {pool6} oifname != {Taps} masquerade" : "";

    private static bool IsAddressRule(NetworkRule rule) => rule.Host.Kind is HostPatternKind.Address or HostPatternKind.Network;

    private static bool IsIpv6(NetworkRule rule) => rule.Host.Value.Contains(':', StringComparison.Ordinal);

    private string LearnedElements(string verb, int linkIndex, IEnumerable<LearnedDestination> destinations)
    {
        var script = new StringBuilder();
        foreach (var (family, suffix) in new[] { (AddressFamily.InterNetwork, ""), (AddressFamily.InterNetworkV6, "6") })
        {
            var elements = destinations
                .Where(d => d.Address.AddressFamily == family && (family == AddressFamily.InterNetwork || Ipv6))
                .Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.Address} . {d.Port}"))
                .ToList();
            if (elements.Count > 0)
            {
                script.Append(CultureInfo.InvariantCulture, $"{verb} element {Table} sb{Index(linkIndex)}_learned{suffix} {{ {string.Join(", ", elements)} }}\n");
            }
        }

        return script.ToString();
    }

    /// <summary>
    /// Reports a refused packet to the daemon (NFLOG), bounded so a guest cannot flood the audit log. A statement with
    /// no verdict: <c>limit</c> is a match, so past the rate this rule simply does not apply, and the verdict must
    /// be a rule of its own (see <see cref="Block"/>), or packets over the rate would slip past it.
    /// </summary>
    private string Log(string why) =>
        $"{LogRate} log group {options.LogGroup.ToString(CultureInfo.InvariantCulture)} prefix {Quote(why)}";

    /// <summary>Two rules for one condition: report (rate-limited), then the verdict (always).</summary>
    private IEnumerable<string> Block(string condition, string why, string verdict)
    {
        yield return $"{condition} {Log(why)}";
        yield return $"{condition} {verdict}";
    }

    /// <summary>
    /// Refused traffic fails fast in the guest (a reset or an ICMP error, not a 30 s connect timeout). Spoofed packets
    /// are dropped silently instead.
    /// </summary>
    private const string Refuse = "reject with icmpx admin-prohibited";

    private static string Ports(NetworkRule rule) =>
        "{ " + string.Join(", ", rule.Ports.Select(p => p.ToString(CultureInfo.InvariantCulture))) + " }";

    private static string Index(int index) => index.ToString(CultureInfo.InvariantCulture);

    private static string Quote(string text) =>
        text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '*' or '.' or ' ')
            ? "\"" + text + "\""
            : throw new ArgumentException($"'{text}' cannot be used in an nftables script", nameof(text));
}
