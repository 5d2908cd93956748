namespace Cleanroom.Network.Nflog;

/// <summary>
/// What the reader has seen since it started. Every logged packet ends in exactly one of <see cref="Reported"/>,
/// <see cref="Suppressed"/>, <see cref="Unattributed"/> or <see cref="HandlerFailures"/>; messages that never became a
/// packet are in <see cref="Malformed"/>, <see cref="Truncated"/>, <see cref="ForeignSenders"/> or were lost whole in
/// <see cref="KernelDrops"/>.
/// </summary>
/// <param name="Datagrams">Datagrams received.</param>
/// <param name="Packets">Logged packets parsed.</param>
/// <param name="Reported">Handed to <see cref="IEgressAudit.Denied"/>.</param>
/// <param name="Suppressed">Over a sandbox's rate and not reported.</param>
/// <param name="Unattributed">Packets no sandbox was found for.</param>
/// <param name="HandlerFailures">The sandbox lookup or the audit threw.</param>
/// <param name="Malformed">Messages that were not well-formed logged packets.</param>
/// <param name="Truncated">Datagrams larger than the receive buffer, skipped.</param>
/// <param name="ForeignSenders">Datagrams from another socket rather than the kernel, skipped.</param>
/// <param name="KernelDrops">Times the kernel reported lost messages (ENOBUFS or NLMSG_OVERRUN); how many were lost
/// is unknown.</param>
public sealed record NflogReaderStatistics(
    long Datagrams,
    long Packets,
    long Reported,
    long Suppressed,
    long Unattributed,
    long HandlerFailures,
    long Malformed,
    long Truncated,
    long ForeignSenders,
    long KernelDrops);
