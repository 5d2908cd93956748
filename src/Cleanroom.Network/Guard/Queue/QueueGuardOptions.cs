using System.Net;
using Cleanroom.Network.Firewall;

namespace Cleanroom.Network.Guard.Queue;

/// <summary>The NFQUEUE the queue guard reads and the bounds it keeps every guest to.</summary>
public sealed record QueueGuardOptions
{
    /// <summary>The queue number the firewall sends undecided connections' packets to.</summary>
    public ushort QueueNumber { get; init; } = 7352;

    /// <summary>Opens the sockets in this network namespace (e.g. <c>/run/netns/NAME</c>); null: the daemon's own.</summary>
    public string? NetworkNamespacePath { get; init; }

    /// <summary>Most bytes of one packet copied to us: a whole segment on any link (larger ones are dropped).</summary>
    public int CopyRange { get; init; } = NfqueueProtocol.MaxCopyRange;

    /// <summary>
    /// Most packets the kernel keeps queued for us, held ones included; past it new packets are dropped (never
    /// passed). Above <see cref="MaxHeldPackets"/>, so one sandbox holding its share cannot stop the others' handshakes.
    /// </summary>
    public uint KernelQueueLength { get; init; } = 8192;

    /// <summary>The netlink socket's receive buffer (root may exceed the system maximum).</summary>
    public int ReceiveBufferBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Most bytes of a first message read before it is decided; a longer TLS or HTTP head is refused (as the proxy guard).</summary>
    public int MaxFirstMessageBytes { get; init; } = 16 * 1024;

    /// <summary>How long a guest has, from the first byte, to finish its first message.</summary>
    public TimeSpan FirstMessageTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>An undecided connection with no packet for this long is forgotten and denied (a silent client waiting for a banner).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Most undecided connections of one sandbox; a handshake over it is dropped.</summary>
    public int MaxFlowsPerSandbox { get; init; } = 128;

    /// <summary>Most undecided connections in all.</summary>
    public int MaxFlows { get; init; } = 1024;

    /// <summary>Most packets held for one connection before it is decided; more is denied.</summary>
    public int MaxHeldPacketsPerFlow { get; init; } = 64;

    /// <summary>Most payload bytes held for one connection (retransmits included); more is denied.</summary>
    public int MaxHeldBytesPerFlow { get; init; } = 32 * 1024;

    /// <summary>Most packets held in all; the connection that would go over it is denied.</summary>
    public int MaxHeldPackets { get; init; } = 4096;

    /// <summary>Most payload bytes held in all; the connection that would go over it is denied.</summary>
    public long MaxHeldBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// How long a decision is remembered after the connection was marked, for packets the kernel queued before the
    /// mark took effect; at most <see cref="MaxDecided"/> are kept.
    /// </summary>
    public TimeSpan DecidedMemory { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Most decisions remembered (oldest forgotten first).</summary>
    public int MaxDecided { get; init; } = 8192;

    /// <summary>Destinations never allowed, whatever DNS said (as <see cref="ConnectionGuardOptions.Blocked"/>).</summary>
    public IReadOnlyList<IPNetwork> Blocked { get; init; } = FirewallRules.AlwaysBlockedNetworks;

    internal void Validate()
    {
        if (CopyRange is < 128 or > NfqueueProtocol.MaxCopyRange)
        {
            throw new ArgumentOutOfRangeException(nameof(CopyRange), CopyRange, $"must be between 128 and {NfqueueProtocol.MaxCopyRange}");
        }

        if (MaxFirstMessageBytes < 512 || MaxHeldBytesPerFlow < MaxFirstMessageBytes || MaxHeldPacketsPerFlow < 2
            || MaxFlowsPerSandbox < 1 || MaxFlows < MaxFlowsPerSandbox || MaxHeldPackets < MaxHeldPacketsPerFlow
            || MaxHeldBytes < MaxHeldBytesPerFlow || MaxDecided < 1 || KernelQueueLength < 1)
        {
            throw new ArgumentException("inconsistent queue guard bounds: a per-flow bound exceeds a total, or one is too small");
        }
    }
}
