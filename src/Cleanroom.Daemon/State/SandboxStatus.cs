namespace Cleanroom.Daemon.State;

/// <summary>
/// Where a sandbox is in its life, as the daemon sees it. The API's <c>cleanroom.v1.SandboxStatus</c> is mapped from
/// this at the edge (<c>Services/ProtoMapping</c>), so the contract can grow without touching the daemon's logic.
/// The numeric values are what the <c>sandboxes.status</c> column holds (they match what earlier versions wrote):
/// never renumber a member.
/// </summary>
public enum SandboxStatus
{
    /// <summary>Admitted; its VM is being prepared or booted.</summary>
    Provisioning = 1,

    /// <summary>Booted and its agent answered: executions may start.</summary>
    Ready = 2,

    /// <summary>Being torn down.</summary>
    Stopping = 3,

    /// <summary>Torn down on request (or removed once no client held it); its VM and work directory are gone.</summary>
    Stopped = 4,

    /// <summary>Ended by a failure (boot, guest, host, or a daemon that stopped under it); its VM is gone.</summary>
    Failed = 5,
}
