using System.Collections.Concurrent;
using Cleanroom.Daemon.Executions;
using Cleanroom.Daemon.State;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Vm;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>A sandbox whose VM is running: the VM, the agent connection, and the executions in flight.</summary>
public sealed class LiveSandbox
{
    public LiveSandbox(SandboxRecord record, IVm vm, AgentClient agent)
    {
        Record = record;
        Vm = vm;
        Agent = agent;
    }

    public SandboxRecord Record { get; set; }

    public IVm Vm { get; }

    public AgentClient Agent { get; }

    public ConcurrentDictionary<string, ExecutionRunner> Executions { get; } = new();

    private int _terminating;

    /// <summary>True once a terminate (or failure handling) began, so the VM's exit is not mistaken for a failure.</summary>
    public bool IsTerminating => Volatile.Read(ref _terminating) == 1;

    /// <summary>Claims the teardown; only the first caller gets true.</summary>
    public bool TryBeginTermination() => Interlocked.Exchange(ref _terminating, 1) == 0;
}
