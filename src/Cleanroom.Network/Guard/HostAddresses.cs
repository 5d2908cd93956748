using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Cleanroom.Network.Guard;

/// <summary>
/// The host's own addresses, re-read at most every few seconds. The guard connects from the host, so a DNS answer
/// naming one of them (IPv4 or IPv6) must not become a way into the host's own services.
/// </summary>
internal sealed class HostAddresses(TimeProvider time)
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(5);
    private readonly Lock _lock = new();
    private HashSet<IPAddress> _addresses = [];
    private long _readAt;
    private bool _read;

    public bool Contains(IPAddress address)
    {
        lock (_lock)
        {
            if (!_read || time.GetElapsedTime(_readAt) >= Refresh)
            {
                _addresses = [.. NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => Unscoped(a.Address))];
                _readAt = time.GetTimestamp();
                _read = true;
            }

            return _addresses.Contains(Unscoped(address));
        }
    }

    // IPAddress equality counts an IPv6 scope id, which names an interface, not a different address.
    private static IPAddress Unscoped(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new IPAddress(address.GetAddressBytes()) : address;
}
