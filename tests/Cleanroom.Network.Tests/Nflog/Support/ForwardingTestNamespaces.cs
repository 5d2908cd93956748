using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Cleanroom.HostProcesses;
using Cleanroom.Network.Nflog;

namespace Cleanroom.Network.Tests.Nflog.Support;

/// <summary>
/// The production path in miniature: a "guest" namespace whose only link (<c>g0</c>, 10.78.0.2) leads to a "host"
/// namespace (<c>h0</c>, 10.78.0.1, the TAP's stand-in) that forwards towards 198.51.100.0/24 (a veth pair inside the
/// host namespace) and whose forward chain logs and drops everything arriving on <c>h0</c>. Both namespaces, and all
/// in them, are deleted on dispose.
/// </summary>
internal sealed class ForwardingTestNamespaces : IAsyncDisposable
{
    public const ushort Group = 7;
    public static readonly IPAddress GuestAddress = IPAddress.Parse("10.78.0.2");

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);
    private readonly List<string> _created = [];

    private ForwardingTestNamespaces(string suffix)
    {
        Host = $"cr-nflog-h-{suffix}";
        Guest = $"cr-nflog-g-{suffix}";
    }

    public string Host { get; }

    public string Guest { get; }

    public string HostPath => $"/run/netns/{Host}";

    /// <summary>The host namespace's index of <c>h0</c>, the guest-facing link.</summary>
    public int GuestLinkIndex { get; private set; }

    public static async Task<ForwardingTestNamespaces> CreateAsync()
    {
        var namespaces = new ForwardingTestNamespaces(Guid.NewGuid().ToString("N")[..8]);
        try
        {
            await namespaces.ConfigureAsync();
            return namespaces;
        }
        catch
        {
            await namespaces.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends one UDP datagram from the guest namespace.</summary>
    public void SendUdpFromGuest(IPAddress destination, int port)
    {
        using var socket = NetworkNamespace.Run($"/run/netns/{Guest}", () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        socket.SendTo([1, 2, 3], new IPEndPoint(destination, port));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var name in _created)
        {
            await HostCommand.TryRunAsync(RootNetns.Ip!, ["netns", "del", name], CommandTimeout, CancellationToken.None);
        }
    }

    private static Task<HostCommandResult> IpAsync(params string[] args) =>
        HostCommand.RunAsync(RootNetns.Ip!, args, CommandTimeout, CancellationToken.None);

    private async Task ConfigureAsync()
    {
        foreach (var name in new[] { Host, Guest })
        {
            await IpAsync("netns", "add", name);
            _created.Add(name);
        }

        await IpAsync("-n", Host, "link", "add", "h0", "type", "veth", "peer", "name", "g0", "netns", Guest);
        await IpAsync("-n", Host, "addr", "add", "10.78.0.1/24", "dev", "h0");
        await IpAsync("-n", Host, "link", "set", "h0", "up");
        await IpAsync("-n", Host, "link", "add", "u0", "type", "veth", "peer", "name", "u1");
        await IpAsync("-n", Host, "addr", "add", "198.51.100.1/24", "dev", "u0");
        await IpAsync("-n", Host, "link", "set", "u1", "up");
        await IpAsync("-n", Host, "link", "set", "u0", "up");
        await IpAsync("netns", "exec", Host, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        await IpAsync("-n", Guest, "addr", "add", "10.78.0.2/24", "dev", "g0");
        await IpAsync("-n", Guest, "link", "set", "g0", "up");
        await IpAsync("-n", Guest, "route", "add", "default", "via", "10.78.0.1");
        var link = await IpAsync("-n", Host, "-o", "link", "show", "dev", "h0");
        GuestLinkIndex = int.Parse(link.Stdout.AsSpan(0, link.Stdout.IndexOf(':', StringComparison.Ordinal)), CultureInfo.InvariantCulture);

        // No prefix: the sandbox is told by the interface the packet came in on, as the lead's ruleset may do.
        var ruleset = Path.Combine(Path.GetTempPath(), $"{Host}.nft");
        await File.WriteAllTextAsync(ruleset, $$"""
            table inet cr_nflog_test {
                chain forward {
                    type filter hook forward priority filter; policy accept;
                    iifname "h0" limit rate 20/second burst 40 packets log group {{Group}}
                    iifname "h0" drop
                }
            }
            """);
        try
        {
            await IpAsync("netns", "exec", Host, RootNetns.Nft!, "-f", ruleset);
        }
        finally
        {
            File.Delete(ruleset);
        }
    }
}
