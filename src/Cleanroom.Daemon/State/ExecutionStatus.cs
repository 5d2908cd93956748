namespace Cleanroom.Daemon.State;

/// <summary>
/// Where an execution is in its life, as the daemon sees it. The API's <c>cleanroom.v1.ExecutionStatus</c> is mapped
/// from this at the edge (<c>Services/ProtoMapping</c>). The numeric values are what the <c>executions.status</c>
/// column holds (they match what earlier versions wrote): never renumber a member.
/// </summary>
public enum ExecutionStatus
{
    /// <summary>Recorded; the guest has not yet accepted the command.</summary>
    Queued = 1,

    /// <summary>The guest started the command.</summary>
    Running = 2,

    /// <summary>The command exited with status 0.</summary>
    Succeeded = 3,

    /// <summary>The command exited non-zero, could not start, or was cut off (output cap, lost guest).</summary>
    Failed = 4,

    /// <summary>The command was ended by a signal someone asked for, or killed with its sandbox.</summary>
    Canceled = 5,

    /// <summary>The command ran past its deadline (no deadline is enforced yet; the value is reserved for it).</summary>
    TimedOut = 6,
}
