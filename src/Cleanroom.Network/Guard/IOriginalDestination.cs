using System.Net;
using System.Net.Sockets;

namespace Cleanroom.Network.Guard;

/// <summary>
/// Where an accepted connection was going before the firewall redirected it to the guard. A seam: the real one asks
/// the kernel (<see cref="RedirectedDestination"/>); loopback tests say it themselves.
/// </summary>
internal interface IOriginalDestination
{
    /// <summary>The original destination (in the accepted socket's family), or null when the kernel knows none (the connection was not redirected).</summary>
    IPEndPoint? Find(Socket accepted);
}
