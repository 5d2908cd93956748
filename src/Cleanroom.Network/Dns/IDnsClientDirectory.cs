using System.Net;

namespace Cleanroom.Network.Dns;

/// <summary>
/// Tells sandboxes apart by the source address of a query. The firewall drops spoofed sources before they reach the
/// filter, so the address is the sandbox's identity. Null: not a sandbox (the query is dropped without an answer).
/// The DNS filter calls it on its receive loop for every datagram and connection, so it must answer from memory and
/// never block.
/// </summary>
public interface IDnsClientDirectory
{
    DnsClient? Find(IPAddress source);
}
