using System.Runtime.InteropServices;

namespace Cleanroom.Vm;

/// <summary>
/// The VM's one network card: an open TAP device (set up by the network layer as root; the confined VMM could not
/// open /dev/net/tun itself) and the card's MAC address. The VMM inherits the descriptor; the caller keeps ownership
/// and closes its copy once the VM has started.
/// </summary>
/// <param name="Tap">The TAP descriptor (IFF_TAP | IFF_NO_PI).</param>
/// <param name="Mac">Lowercase colon-separated MAC, e.g. <c>02:5c:1e:00:00:07</c>.</param>
public sealed record VmNetworkInterface(SafeHandle Tap, string Mac);
