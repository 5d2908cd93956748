namespace Cleanroom.Daemon.Events;

/// <summary>What happened to a sandbox.</summary>
public enum SandboxEventKind
{
    /// <summary>Its status changed (message says why).</summary>
    Status = 1,

    /// <summary>The guest tried to reach something its policy does not allow (a DNS query or a connection).</summary>
    EgressDenied = 2,

    /// <summary>The daemon stopped storing a flood of events and says how many it counted instead.</summary>
    Suppressed = 3,
}

/// <summary>
/// One entry of a sandbox's event log. <see cref="Sequence"/> orders all events of the daemon; followers resume
/// after the last one they saw. Guest-controlled fields are escaped before they get here.
/// </summary>
public sealed record SandboxEventRecord
{
    public long Sequence { get; init; }

    public required string SandboxId { get; init; }

    public required SandboxEventKind Kind { get; init; }

    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>For <see cref="SandboxEventKind.Status"/>: the status name, e.g. <c>READY</c>.</summary>
    public string Status { get; init; } = "";

    public string Message { get; init; } = "";

    public string Destination { get; init; } = "";

    public int Port { get; init; }

    /// <summary><c>dns</c>, <c>tcp</c>, <c>udp</c>, <c>icmp</c>…</summary>
    public string Protocol { get; init; } = "";

    /// <summary>A reason code's wire name, e.g. <c>host_not_allowed</c>.</summary>
    public string Reason { get; init; } = "";
}
