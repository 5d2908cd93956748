namespace Cleanroom.Network.Dns.Wire;

/// <summary>A guest's query after strict parsing: its id, its RD bit, its one question and its EDNS buffer size.</summary>
/// <param name="Id">The guest's message id, echoed in the answer.</param>
/// <param name="RecursionDesired">The guest's RD bit, copied into the answer.</param>
/// <param name="Question">The question exactly as asked (the answer repeats it in the guest's spelling).</param>
/// <param name="EdnsUdpSize">The UDP payload size from the guest's OPT record; null without one.</param>
internal sealed record DnsQuery(ushort Id, bool RecursionDesired, DnsQuestion Question, ushort? EdnsUdpSize);
