using System.Net;

namespace Cleanroom.Network.Dns;

/// <summary>
/// Tells sandboxes apart by the source address of a query. The firewall drops spoofed sources before they reach the
/// filter, so the address is the sandbox's identity. Null: not a sandbox (the query is dropped without an answer).
/// </summary>
public interface IDnsClientDirectory
{
    DnsClient? Find(IPAddress source);
}
