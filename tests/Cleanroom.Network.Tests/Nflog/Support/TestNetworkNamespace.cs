using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Cleanroom.HostProcesses;
using Cleanroom.Network.Nflog;

namespace Cleanroom.Network.Tests.Nflog.Support;

/// <summary>
/// A network namespace of its own for one test: loopback, a veth interface <c>v0</c> holding
/// <see cref="LocalV4"/>/<see cref="LocalV6"/> on 10.77.0.0/24 and fd77::/64, and an nftables table whose output chain
/// logs to NFLOG group <see cref="Group"/> (prefix <see cref="Prefix"/>) and drops every packet for those subnets.
/// Traffic never leaves the namespace. Deleting the namespace removes the interface and the table with it.
/// </summary>
internal sealed class TestNetworkNamespace : IAsyncDisposable
{
    public const ushort Group = 7;
    public const string Prefix = "42";
    public static readonly IPAddress LocalV4 = IPAddress.Parse("10.77.0.1");
    public static readonly IPAddress LocalV6 = IPAddress.Parse("fd77::1");

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);

    private TestNetworkNamespace(string name)
    {
        Name = name;
    }

    public string Name { get; }

    /// <summary>The bind mount ip-netns(8) keeps the namespace alive with; what setns(2) opens.</summary>
    public string Path => $"/run/netns/{Name}";

    /// <summary>The kernel's index of <c>v0</c> in the namespace.</summary>
    public int LinkIndex { get; private set; }

    public static async Task<TestNetworkNamespace> CreateAsync()
    {
        var ns = new TestNetworkNamespace($"cr-nflog-{Guid.NewGuid().ToString("N")[..10]}");
        await IpAsync("netns", "add", ns.Name);
        try
        {
            await ns.ConfigureAsync();
            return ns;
        }
        catch
        {
            await ns.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <paramref name="action"/> on a thread inside the namespace (e.g. to create a socket there).</summary>
    public T Run<T>(Func<T> action) => NetworkNamespace.Run(Path, action);

    /// <summary>Sends one UDP datagram from inside the namespace; the ruleset drops it (the send may report EPERM).</summary>
    public void SendUdp(IPAddress destination, int port)
    {
        using var socket = Run(() => new Socket(destination.AddressFamily, SocketType.Dgram, ProtocolType.Udp));
        IgnoreRefusal(() => socket.SendTo([1, 2, 3], new IPEndPoint(destination, port)));
    }

    /// <summary>Starts a TCP connection from inside the namespace; its SYN is dropped.</summary>
    public void StartTcp(IPAddress destination, int port)
    {
        using var socket = Run(() => new Socket(destination.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        socket.Blocking = false;
        IgnoreRefusal(() => socket.Connect(new IPEndPoint(destination, port)));
    }

    /// <summary>Sends an ICMP or ICMPv6 echo request from inside the namespace through a raw socket.</summary>
    public void Ping(IPAddress destination)
    {
        var v6 = destination.AddressFamily == AddressFamily.InterNetworkV6;
        using var socket = Run(() => new Socket(destination.AddressFamily, SocketType.Raw, v6 ? ProtocolType.IcmpV6 : ProtocolType.Icmp));
        // Type 8 (IPv4) or 128 (IPv6) echo request; the kernel fills in the ICMPv6 checksum, IPv4's is not checked here.
        byte[] echo = [v6 ? (byte)128 : (byte)8, 0, 0, 0, 0x12, 0x34, 0, 1];
        IgnoreRefusal(() => socket.SendTo(echo, new IPEndPoint(destination, 0)));
    }

    public async ValueTask DisposeAsync() => await IpAsync("netns", "del", Name);

    private static void IgnoreRefusal(Action send)
    {
        try
        {
            send();
        }
        catch (SocketException)
        {
            // EPERM from the drop in the output chain, or EINPROGRESS for the connect: the packet was logged either way.
        }
    }

    private static Task<HostCommandResult> IpAsync(params string[] args) =>
        HostCommand.RunAsync(RootNetns.Ip!, args, CommandTimeout, CancellationToken.None);

    private async Task ConfigureAsync()
    {
        await IpAsync("-n", Name, "link", "set", "lo", "up");
        // A veth pair with both ends here (no dummy module needed): v0 holds the addresses, v1 only gives v0 a carrier.
        await IpAsync("-n", Name, "link", "add", "v0", "type", "veth", "peer", "name", "v1");
        await IpAsync("-n", Name, "addr", "add", "10.77.0.1/24", "dev", "v0");
        await IpAsync("-n", Name, "addr", "add", "fd77::1/64", "dev", "v0", "nodad");
        await IpAsync("-n", Name, "link", "set", "v1", "up");
        await IpAsync("-n", Name, "link", "set", "v0", "up");
        var link = await IpAsync("-n", Name, "-o", "link", "show", "dev", "v0");
        LinkIndex = int.Parse(link.Stdout.AsSpan(0, link.Stdout.IndexOf(':', StringComparison.Ordinal)), CultureInfo.InvariantCulture);

        var ruleset = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{Name}.nft");
        await File.WriteAllTextAsync(ruleset, $$"""
            table inet cr_nflog_test {
                chain output {
                    type filter hook output priority filter; policy accept;
                    ip daddr 10.77.0.0/24 ip daddr != 10.77.0.1 log group {{Group}} prefix "{{Prefix}}" drop
                    ip6 daddr fd77::/64 ip6 daddr != fd77::1 log group {{Group}} prefix "{{Prefix}}" drop
                }
            }
            """);
        try
        {
            await IpAsync("netns", "exec", Name, RootNetns.Nft!, "-f", ruleset);
        }
        finally
        {
            File.Delete(ruleset);
        }
    }
}
