using System.Net;
using Cleanroom.Gateway.Server;
using Cleanroom.Policy;

namespace Cleanroom.Gateway.Bench;

/// <summary>Every loopback client is one sandbox allowed everywhere: the bench measures serving, not policy.</summary>
internal sealed class EveryoneIsOneSandbox : IGatewayClients
{
    private readonly GatewayClient _client = new("bench", NetworkPolicy.DenyAll, AllowAll: true);

    public GatewayClient? Find(IPAddress source) => IPAddress.IsLoopback(source) ? _client : null;
}

/// <summary>Refusals are not expected here; they would show up as failed requests.</summary>
internal sealed class NoAudit : IGatewayAudit
{
    public void Refused(GatewayRefusal refusal)
    {
    }
}
