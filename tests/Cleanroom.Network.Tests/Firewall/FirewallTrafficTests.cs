using System.Diagnostics;
using System.Net;
using Cleanroom.Network.Firewall;
using Cleanroom.Network.Links;
using Cleanroom.Network.Tests.Support;
using Cleanroom.TestSupport;

namespace Cleanroom.Network.Tests.Firewall;

/// <summary>
/// Real packets through the rendered firewall, without VMs: a "host" namespace holds the table and routes; each
/// "guest" namespace is wired to it by a veth pair whose host end carries the TAP name, so the rules cannot tell it
/// from a VM's TAP; an "internet" namespace serves TCP and UDP on several addresses.
/// </summary>
public sealed class FirewallTrafficTests : IDisposable
{
    private const string Server = "10.250.0.2";
    private const string LearnedServer = "10.250.0.3";
    private const string UnlistedServer = "10.250.0.4";
    private const string DeniedServer = "10.250.0.5";
    private const string Server6 = "fd99::2";
    private const string LearnedServer6 = "fd99::3";
    private const string UnlistedServer6 = "fd99::4";
    private const string DeniedServer6 = "fd99::5";

    // Guests have IPv6 too: every test checks IPv4 with it on, the IPv6 tests check it follows the same rules.
    private static readonly NetworkOptions Options = new() { Pool6 = NetworkOptions.DefaultPool6 };
    private static readonly LinkAddressPool Pool = new(Options.Pool, Options.TapPrefix, Options.Pool6);

    private readonly FirewallRules _rules = new(Options);
    private readonly NetworkNamespace _host = NetworkNamespace.Create("host");
    private readonly NetworkNamespace _internet = NetworkNamespace.Create("net");
    private readonly List<NetworkNamespace> _guests = [];
    private readonly List<Process> _servers = [];

    public FirewallTrafficTests()
    {
        _host.Run("sysctl", "-qw", "net.ipv4.ip_forward=1");
        _host.Run("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1");
        NetworkNamespace.Host("ip", "link", "add", "cr-up", "netns", _host.Name, "type", "veth", "peer", "name", "cr-down", "netns", _internet.Name);
        _host.Run("ip", "addr", "add", "10.250.0.1/24", "dev", "cr-up");
        _host.Run("ip", "link", "set", "cr-up", "up");
        foreach (var address in new[] { Server, LearnedServer, UnlistedServer, DeniedServer })
        {
            _internet.Run("ip", "addr", "add", address + "/24", "dev", "cr-down");
        }

        _host.Run("ip", "-6", "addr", "add", "fd99::1/64", "dev", "cr-up", "nodad");
        foreach (var address in new[] { Server6, LearnedServer6, UnlistedServer6, DeniedServer6 })
        {
            _internet.Run("ip", "-6", "addr", "add", address + "/64", "dev", "cr-down", "nodad");
        }

        _internet.Run("ip", "link", "set", "cr-down", "up");
        _internet.Run("ip", "route", "add", "default", "via", "10.250.0.1");
        _internet.Run("ip", "-6", "route", "add", "default", "via", "fd99::1");
        _servers.Add(_internet.Start("socat", "TCP-LISTEN:80,fork,reuseaddr", "SYSTEM:echo tcp80 $SOCAT_SOCKADDR from $SOCAT_PEERADDR"));
        _servers.Add(_internet.Start("socat", "TCP-LISTEN:81,fork,reuseaddr", "SYSTEM:echo tcp81"));
        _servers.Add(_internet.Start("socat", "UDP-RECVFROM:5000,fork", "SYSTEM:echo udp5000"));

        // Bound to its address: a wildcard UDP server would answer from the interface's first address.
        _servers.Add(_internet.Start("socat", $"UDP-RECVFROM:5001,bind={LearnedServer},fork", "SYSTEM:echo udp5001"));
        _servers.Add(_internet.Start("socat", "TCP6-LISTEN:80,fork,reuseaddr,ipv6only=1", "SYSTEM:echo tcp80 $SOCAT_SOCKADDR from $SOCAT_PEERADDR"));
        _servers.Add(_internet.Start("socat", "TCP6-LISTEN:81,fork,reuseaddr,ipv6only=1", "SYSTEM:echo tcp81"));
        _servers.Add(_internet.Start("socat", $"UDP6-RECVFROM:5000,bind=[{Server6}],fork,ipv6only=1", "SYSTEM:echo udp5000"));
        _servers.Add(_internet.Start("socat", $"UDP6-RECVFROM:5001,bind=[{LearnedServer6}],fork,ipv6only=1", "SYSTEM:echo udp5001"));
        WaitForListeners(_internet, "tcp", "0.0.0.0:80 ", "0.0.0.0:81 ", "[::]:80 ", "[::]:81 ");
        WaitForListeners(_internet, "udp", "0.0.0.0:5000 ", ":5001 ", $"[{Server6}]:5000 ", $"[{LearnedServer6}]:5001 ");
        _host.RunWithInput(_rules.Base(), "nft", "-f", "-");
    }

    [Fact]
    public void A_sandbox_reaches_exactly_what_its_rules_and_learned_answers_allow()
    {
        var policy = TestNetworkPolicies.Compile(
            $$"""[{host: {{Server}}, ports: [80, 5000]}, {host: 10.250.0.4/31, ports: [81]}]""",
            $"[{DeniedServer}]");
        var (guest, link) = AddGuest(0, "sandbox-a", policy, allowAll: false);

        Assert.Equal($"tcp80 {Server} from 10.250.0.1", Tcp(guest, Server, 80)); // allowed by address, masqueraded
        Assert.Null(Tcp(guest, Server, 81));                                      // same host, other port
        Assert.Equal("udp5000", UdpAnswer(guest, Server, 5000));                        // UDP follows the same rule
        Assert.Null(Tcp(guest, UnlistedServer, 80));                              // never allowed
        Assert.Equal("tcp81", Tcp(guest, UnlistedServer, 81));                    // a CIDR rule
        Assert.Null(Tcp(guest, DeniedServer, 81));                                // in the same CIDR, but deny beats allow
        Assert.Null(Tcp(guest, "169.254.169.254", 80));                           // metadata address

        // A learned destination: TCP goes to the connection guard on the host (here a stand-in that names itself),
        // UDP is forwarded as it is.
        _servers.Add(_host.Start("socat", $"TCP-LISTEN:{Options.GuardPort},fork,reuseaddr", "SYSTEM:echo guard"));
        WaitForListeners(_host, "tcp", $":{Options.GuardPort} ");
        Assert.Null(Tcp(guest, LearnedServer, 80));
        Assert.Null(Udp(guest, LearnedServer, 5001));
        _host.RunWithInput(_rules.AddLearned(link.Index, [new(IPAddress.Parse(LearnedServer), 80), new(IPAddress.Parse(LearnedServer), 5001)]), "nft", "-f", "-");
        Assert.Equal("guard", Tcp(guest, LearnedServer, 80));
        Assert.Equal("udp5001", UdpAnswer(guest, LearnedServer, 5001));
        Assert.Null(Tcp(guest, LearnedServer, 81));
        _host.RunWithInput(_rules.RemoveLearned(link.Index, [new(IPAddress.Parse(LearnedServer), 80), new(IPAddress.Parse(LearnedServer), 5001)]), "nft", "-f", "-");
        Assert.Null(Tcp(guest, LearnedServer, 80));
        Assert.Null(Udp(guest, LearnedServer, 5001));
    }

    [Fact]
    public void Spoofed_sources_other_sandboxes_and_the_host_are_out_of_reach()
    {
        // The policy even allows the whole sandbox pool: other sandboxes stay out of reach all the same.
        var policy = TestNetworkPolicies.Compile($"[\"{Server}:80\", {{host: \"10.213.0.0/16\", ports: [80]}}]");
        var (guest, link) = AddGuest(0, "sandbox-a", policy, allowAll: false);
        var (other, otherLink) = AddGuest(1, "sandbox-b", policy, allowAll: true);
        _servers.Add(other.Start("socat", "TCP-LISTEN:80,fork,reuseaddr", "SYSTEM:echo guest-b"));
        _servers.Add(_host.Start("socat", "TCP-LISTEN:22,fork,reuseaddr", "SYSTEM:echo host-ssh"));
        WaitForListeners(other, "tcp", ":80 ");
        WaitForListeners(_host, "tcp", ":22 ");

        Assert.NotNull(Tcp(guest, Server, 80));
        Assert.Null(Tcp(guest, otherLink.GuestAddress.ToString(), 80));   // guest to guest
        Assert.Null(Tcp(other, link.GuestAddress.ToString(), 80));        // even for an allow-all sandbox
        Assert.Contains("No route to host", Refusal(guest, otherLink.GuestAddress.ToString(), 80), StringComparison.Ordinal); // refused, not left to time out
        Assert.Null(Tcp(guest, link.HostAddress.ToString(), 22));         // the host, beyond DNS
        Assert.Null(Tcp(other, "10.250.0.1", 22));

        // Another source address on the guest's card: dropped before routing.
        guest.Run("ip", "addr", "add", "10.213.0.9/32", "dev", "eth0");
        Assert.Null(Tcp(guest, Server, 80, bind: "10.213.0.9"));

        // Another MAC: dropped too.
        guest.Run("ip", "link", "set", "eth0", "address", "02:00:00:00:00:99");
        Assert.Null(Tcp(guest, Server, 80));
    }

    [Fact]
    public void IPv6_follows_the_same_rules()
    {
        var policy = TestNetworkPolicies.Compile(
            $$"""[{host: "{{Server6}}", ports: [80, 5000]}, {host: "fd99::4/127", ports: [81]}]""",
            $"[{{host: \"{DeniedServer6}\"}}]");
        var (guest, link) = AddGuest(0, "sandbox-a", policy, allowAll: false);

        Assert.StartsWith("tcp80", Tcp(guest, Server6, 80));  // allowed by address
        Assert.Null(Tcp(guest, Server6, 81));                  // same host, other port
        Assert.Equal("udp5000", UdpAnswer(guest, Server6, 5000));    // UDP follows the same rule
        Assert.Null(Tcp(guest, UnlistedServer6, 80));          // never allowed
        Assert.Equal("tcp81", Tcp(guest, UnlistedServer6, 81)); // a CIDR rule
        Assert.Null(Tcp(guest, DeniedServer6, 81));            // in the same CIDR, but deny beats allow
        Assert.Null(Tcp(guest, "fd00:ec2::254", 80));          // the metadata address

        // Learned from an AAAA answer: TCP goes to the guard, UDP is forwarded; forgotten, both are refused again.
        _servers.Add(_host.Start("socat", $"TCP6-LISTEN:{Options.GuardPort},fork,reuseaddr,ipv6only=1", "SYSTEM:echo guard6"));
        WaitForListeners(_host, "tcp", $"[::]:{Options.GuardPort} ");
        Assert.Null(Tcp(guest, LearnedServer6, 80));
        Assert.Null(Udp(guest, LearnedServer6, 5001));
        LearnedDestination[] learned = [new(IPAddress.Parse(LearnedServer6), 80), new(IPAddress.Parse(LearnedServer6), 5001)];
        _host.RunWithInput(_rules.AddLearned(link.Index, learned), "nft", "-f", "-");
        Assert.Equal("guard6", Tcp(guest, LearnedServer6, 80));
        Assert.Equal("udp5001", UdpAnswer(guest, LearnedServer6, 5001));
        Assert.Null(Tcp(guest, LearnedServer6, 81));
        _host.RunWithInput(_rules.RemoveLearned(link.Index, learned), "nft", "-f", "-");
        Assert.Null(Tcp(guest, LearnedServer6, 80));
        Assert.Null(Udp(guest, LearnedServer6, 5001));
    }

    [Fact]
    public void IPv6_spoofing_other_sandboxes_and_the_host_are_out_of_reach()
    {
        var policy = TestNetworkPolicies.Compile($"[{{host: \"{Server6}\", ports: [80]}}, {{host: \"fd63:6c65:616e::/64\", ports: [80]}}]");
        var (guest, link) = AddGuest(0, "sandbox-a", policy, allowAll: false);
        var (other, otherLink) = AddGuest(1, "sandbox-b", policy, allowAll: true);
        _servers.Add(other.Start("socat", "TCP6-LISTEN:80,fork,reuseaddr,ipv6only=1", "SYSTEM:echo guest-b"));
        _servers.Add(_host.Start("socat", "TCP6-LISTEN:22,fork,reuseaddr,ipv6only=1", "SYSTEM:echo host-ssh"));
        WaitForListeners(other, "tcp", "[::]:80 ");
        WaitForListeners(_host, "tcp", "[::]:22 ");

        Assert.NotNull(Tcp(guest, Server6, 80));
        Assert.Null(Tcp(guest, otherLink.GuestAddress6!.ToString(), 80)); // guest to guest
        Assert.Null(Tcp(other, link.GuestAddress6!.ToString(), 80));      // even for an allow-all sandbox
        Assert.Null(Tcp(guest, link.HostAddress6!.ToString(), 22));       // the host
        Assert.Null(Tcp(other, "fd99::1", 22));
        Assert.StartsWith("tcp81", Tcp(other, UnlistedServer6, 81));      // allow-all reaches the rest

        // Another source address on the guest's card: dropped before routing.
        guest.Run("ip", "-6", "addr", "add", "fd63:6c65:616e::99/128", "dev", "eth0", "nodad");
        Assert.Null(Tcp(guest, Server6, 80, bind: "[fd63:6c65:616e::99]"));
    }

    [Fact]
    public void Port_8170_of_the_guests_gateway_reaches_the_gateway_port_and_nothing_else_does()
    {
        var gatewayPort = Options.GatewayPort!.Value;
        var (guest, link) = AddGuest(0, "sandbox-a", TestNetworkPolicies.Compile("[]"), allowAll: false);
        _servers.Add(_host.Start("socat", $"TCP-LISTEN:{gatewayPort},fork,reuseaddr", "SYSTEM:echo gateway"));
        _servers.Add(_host.Start("socat", $"TCP6-LISTEN:{gatewayPort},fork,reuseaddr,ipv6only=1", "SYSTEM:echo gateway6"));
        _servers.Add(_host.Start("socat", "TCP-LISTEN:8170,fork,reuseaddr", "SYSTEM:echo not-the-gateway"));
        WaitForListeners(_host, "tcp", $"0.0.0.0:{gatewayPort} ", $"[::]:{gatewayPort} ", "0.0.0.0:8170 ");

        Assert.Equal("gateway", Tcp(guest, link.HostAddress.ToString(), 8170));        // redirected, whatever the policy
        Assert.Equal("gateway6", Tcp(guest, link.HostAddress6!.ToString(), 8170));     // IPv6 too
        Assert.Null(Tcp(guest, link.HostAddress.ToString(), gatewayPort));            // the host port itself: not DNATed
        Assert.Null(Tcp(guest, link.HostAddress6!.ToString(), gatewayPort));
        Assert.Null(Tcp(guest, Server, 8170));                                        // not a host address: egress rules

        // From the network (not a guest, not loopback) the gateway port is dropped.
        var (_, fromInternet, _) = _internet.TryRun(string.Empty, "socat", "-T", "2", "-", $"TCP:10.250.0.1:{gatewayPort},connect-timeout=2");
        Assert.Equal(string.Empty, fromInternet.Trim());

        // The gateway did not start: the redirect goes, and port 8170 is refused like any other host port (never the
        // stand-in that holds it on the host).
        _host.RunWithInput(_rules.WithoutGateway(), "nft", "-f", "-");
        Assert.Null(Tcp(guest, link.HostAddress.ToString(), 8170));
        Assert.Null(Tcp(guest, link.HostAddress6!.ToString(), 8170));
    }

    [Fact]
    public void An_allow_all_sandbox_still_cannot_reach_blocked_ranges()
    {
        var (guest, _) = AddGuest(0, "sandbox-a", TestNetworkPolicies.Compile("[]"), allowAll: true);
        Assert.NotNull(Tcp(guest, UnlistedServer, 81));
        Assert.Null(Tcp(guest, "169.254.169.254", 80));
    }

    public void Dispose()
    {
        foreach (var server in _servers)
        {
            server.Kill(entireProcessTree: true);
            server.Dispose();
        }

        foreach (var ns in _guests)
        {
            ns.Dispose();
        }

        _internet.Dispose();
        _host.Dispose();
    }

    private (NetworkNamespace Guest, SandboxLink Link) AddGuest(int index, string sandboxId, Cleanroom.Policy.NetworkPolicy policy, bool allowAll)
    {
        var link = Pool.LinkAt(index, sandboxId);
        var guest = NetworkNamespace.Create("guest");
        _guests.Add(guest);
        NetworkNamespace.Host("ip", "link", "add", link.TapName, "netns", _host.Name, "type", "veth", "peer", "name", "eth0", "netns", guest.Name);
        _host.Run("ip", "addr", "add", $"{link.HostAddress}/{link.PrefixLength}", "dev", link.TapName);
        _host.Run("ip", "link", "set", link.TapName, "up");
        guest.Run("ip", "link", "set", "eth0", "address", link.Mac);
        guest.Run("ip", "addr", "add", $"{link.GuestAddress}/{link.PrefixLength}", "dev", "eth0");
        guest.Run("ip", "link", "set", "eth0", "up");
        guest.Run("ip", "route", "add", "default", "via", link.HostAddress.ToString());
        _host.Run("ip", "-6", "addr", "add", $"{link.HostAddress6}/{LinkAddressPool.LinkPrefixLength6}", "dev", link.TapName, "nodad");
        guest.Run("ip", "-6", "addr", "add", $"{link.GuestAddress6}/{LinkAddressPool.LinkPrefixLength6}", "dev", "eth0", "nodad");
        guest.Run("ip", "-6", "route", "add", "default", "via", link.HostAddress6!.ToString());
        _host.RunWithInput(_rules.AddSandbox(new SandboxFirewall(link, policy, allowAll)), "nft", "-f", "-");
        return (guest, link);
    }

    /// <summary>The server's first line, or null when the connection was refused or timed out.</summary>
    private static string? Tcp(NetworkNamespace guest, string address, int port, string? bind = null)
    {
        var host = address.Contains(':', StringComparison.Ordinal) ? $"[{address}]" : address;
        var target = $"TCP:{host}:{port},connect-timeout=3" + (bind is null ? string.Empty : $",bind={bind}");
        var (exitCode, stdout, _) = guest.TryRun(string.Empty, "socat", "-T", "3", "-", target);
        return exitCode == 0 && stdout.Length > 0 ? stdout.Trim() : null;
    }

    /// <summary>How a TCP connection failed, as socat reports it (a refusal names its ICMP error; a drop times out).</summary>
    private static string Refusal(NetworkNamespace guest, string address, int port)
    {
        var (_, _, stderr) = guest.TryRun(string.Empty, "socat", "-T", "3", "-", $"TCP:{address}:{port},connect-timeout=3");
        return stderr;
    }

    /// <summary>
    /// <see cref="Udp"/> for a datagram that must be answered, asked up to three times: the reply comes from a shell the
    /// server forks per datagram, which on a loaded CI host once took longer than the client's two seconds. A drop is
    /// still a drop (the rules do not change between the tries); only a slow answer gets another chance.
    /// </summary>
    private static string? UdpAnswer(NetworkNamespace guest, string address, int port)
    {
        string? answer = null;
        for (var attempt = 0; attempt < 3 && answer is null; attempt++)
        {
            answer = Udp(guest, address, port);
        }

        return answer;
    }

    private static string? Udp(NetworkNamespace guest, string address, int port)
    {
        var host = address.Contains(':', StringComparison.Ordinal) ? $"[{address}]" : address;
        var (exitCode, stdout, _) = guest.TryRun("ping\n", "socat", "-t", "2", "-T", "3", "-", $"UDP:{host}:{port}");
        return exitCode == 0 && stdout.Length > 0 ? stdout.Trim() : null;
    }

    private static void WaitForListeners(NetworkNamespace ns, string protocol, params string[] ports)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var listening = ns.Run("ss", protocol == "tcp" ? "-ltnH" : "-lunH");
            if (ports.All(p => listening.Contains(p, StringComparison.Ordinal)))
            {
                return;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), $"servers on {string.Join(',', ports)} did not start");
            Thread.Sleep(20);
        }
    }
}
