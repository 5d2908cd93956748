using System.Net;
using Cleanroom.Gateway.Server;
using Cleanroom.Network.Dns;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// The gateway's view of the live sandboxes: the same source-address lookup the DNS filter uses (the firewall has
/// already dropped packets whose source is not their TAP's guest), so a request is its guest's and no other's.
/// </summary>
internal sealed class GatewayClients(IDnsClientDirectory directory) : IGatewayClients
{
    public GatewayClient? Find(IPAddress source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return directory.Find(source) is { } client ? new GatewayClient(client.SandboxId, client.Policy, client.AllowAll) : null;
    }
}
