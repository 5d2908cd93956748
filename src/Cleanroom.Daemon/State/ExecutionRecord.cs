
namespace Cleanroom.Daemon.State;

/// <summary>What the daemon remembers about an execution (one row of the executions table).</summary>
public sealed record ExecutionRecord
{
    public required string Id { get; init; }

    public required string SandboxId { get; init; }

    public required ExecutionStatus Status { get; init; }

    public required IReadOnlyList<string> Command { get; init; }

    public bool Tty { get; init; }

    public int ExitCode { get; init; }

    public int Signal { get; init; }

    public string Error { get; init; } = "";

    public int GuestPid { get; init; }

    /// <summary>
    /// The stream the command runs on in its sandbox's guest connection (0 before it started): the next daemon takes
    /// the command over by it after a restart.
    /// </summary>
    public uint StreamId { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public bool IsFinished => Status is ExecutionStatus.Succeeded or ExecutionStatus.Failed or ExecutionStatus.Canceled or ExecutionStatus.TimedOut;
}
