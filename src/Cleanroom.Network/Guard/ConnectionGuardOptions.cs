using System.Net;
using Cleanroom.Network.Firewall;

namespace Cleanroom.Network.Guard;

/// <summary>Where the connection guard listens and the bounds it keeps every guest to.</summary>
public sealed record ConnectionGuardOptions
{
    /// <summary>The listening endpoint the firewall redirects to (IPv4; port 0 picks one, see <see cref="ConnectionGuard.LocalEndpoint"/>).</summary>
    public IPEndPoint Endpoint { get; init; } = new(IPAddress.Any, 10443);

    /// <summary>
    /// The IPv6 listening endpoint the firewall redirects IPv6 guests to (e.g. <c>[::]:10443</c>; IPv6 only, so IPv4
    /// guests keep to <see cref="Endpoint"/>; port 0 picks one, see <see cref="ConnectionGuard.LocalEndpoint6"/>), or
    /// null for no IPv6 listener.
    /// </summary>
    public IPEndPoint? Endpoint6 { get; init; }

    /// <summary>Most bytes of a guest's first message held before it is decided; a TLS or HTTP head longer than this is refused.</summary>
    public int MaxFirstMessageBytes { get; init; } = 16 * 1024;

    /// <summary>How long a guest has, from its first byte, to finish its first message.</summary>
    public TimeSpan FirstMessageTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A connection with no bytes in either direction for this long is reset.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long connecting to the original destination may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The buffer each direction of a connection relays through: fewer, larger copies for downloads. At the connection
    /// cap (1024) this is 128 MiB. bench/network.py measures the relay against an unfiltered sandbox.
    /// </summary>
    public int RelayBufferBytes { get; init; } = 64 * 1024;

    /// <summary>
    /// After this many bytes in one direction, that direction stops copying through <see cref="RelayBufferBytes"/> and
    /// moves its bytes with splice(2) in the kernel instead (a thread and a 1 MiB pipe per such direction; see
    /// <c>SpliceRelay</c>), which takes less host CPU per byte from a guest that shares the host's cores. Short
    /// connections never reach it and keep the cheap-to-start async copy. Null: never. bench/GuardRelayBench measures it.
    /// </summary>
    public long? SpliceAfterBytes { get; init; } = 512 * 1024;

    /// <summary>Most connections one sandbox may have open through the guard; more are reset on arrival.</summary>
    public int MaxConnectionsPerSandbox { get; init; } = 128;

    /// <summary>Most connections open through the guard in all.</summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>
    /// Destinations the guard never connects to, whatever DNS said: by default the firewall's always-blocked ranges
    /// (loopback, link-local and metadata, multicast, ...). Add the sandbox pool. The host's own addresses are refused
    /// too, always.
    /// </summary>
    public IReadOnlyList<IPNetwork> Blocked { get; init; } = FirewallRules.AlwaysBlockedNetworks;

    /// <summary>How long <see cref="ConnectionGuard.StopAsync"/> waits for connections to end.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
