using Cleanroom.Api.V1;
using Cleanroom.Daemon.State;
using Google.Protobuf.WellKnownTypes;
using DomainExecutionStatus = Cleanroom.Daemon.State.ExecutionStatus;
using DomainSandboxStatus = Cleanroom.Daemon.State.SandboxStatus;
using ProtoExecutionStatus = Cleanroom.Api.V1.ExecutionStatus;
using ProtoSandboxStatus = Cleanroom.Api.V1.SandboxStatus;

namespace Cleanroom.Daemon.Services;

/// <summary>
/// Records to API messages, in one place: the daemon's own types stop here, so the contract and the daemon can change
/// independently.
/// </summary>
internal static class ProtoMapping
{
    public static Sandbox ToProto(this SandboxRecord s, string activeExecutionId = "") => new()
    {
        SandboxId = s.Id,
        Status = s.Status.ToProto(),
        StatusMessage = s.StatusMessage,
        Backend = s.Backend,
        ImageRef = s.ImageRef,
        PolicyHash = s.PolicyHash,
        ImageDigest = s.ImageDigest,
        Accelerator = s.Accelerator,
        Vcpus = s.Vcpus,
        MemoryMib = s.MemoryMiB,
        BootMs = s.BootMs,
        CreatedAt = Timestamp.FromDateTimeOffset(s.CreatedAt),
        UpdatedAt = Timestamp.FromDateTimeOffset(s.UpdatedAt),
        LastExecutionId = s.LastExecutionId,
        ActiveExecutionId = activeExecutionId,
        AutoRemove = s.AutoRemove,
        DangerouslyAllowAll = s.AllowAll,
        GuestAddress = s.GuestAddress,
        Workspace = s.Workspace is { } w ? new Api.V1.SandboxWorkspace
        {
            Repository = w.Repository,
            Commit = w.Commit,
            Path = w.Path,
            LocalChangesCopied = w.LocalChangesCopied,
            ImageBuilt = w.ImageBuilt,
            SkippedSubmodules = { w.SkippedSubmodules },
        } : null,
        StartMode = s.StartMode,
        StartNote = s.StartNote,
        BootPhases = { s.BootPhases.Select(p => new Api.V1.BootPhase { Name = p.Name, Milliseconds = p.Milliseconds }) },
        ClientKey = s.ClientKey,
    };

    public static SandboxEvent ToProto(this Events.SandboxEventRecord e) => new()
    {
        SandboxId = e.SandboxId,
        Sequence = e.Sequence,
        Kind = e.Kind switch
        {
            Events.SandboxEventKind.Status => SandboxEventKind.Status,
            Events.SandboxEventKind.EgressDenied => SandboxEventKind.EgressDenied,
            Events.SandboxEventKind.Suppressed => SandboxEventKind.Suppressed,
            _ => SandboxEventKind.Unspecified,
        },
        Status = System.Enum.TryParse<DomainSandboxStatus>(e.Status, ignoreCase: true, out var status) ? status.ToProto() : ProtoSandboxStatus.Unspecified,
        Message = e.Message,
        OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(e.OccurredAt),
        Destination = e.Destination,
        Port = e.Port,
        Protocol = e.Protocol,
        ReasonCode = e.Reason,
    };

    public static Execution ToProto(this ExecutionRecord e)
    {
        var execution = new Execution
        {
            ExecutionId = e.Id,
            SandboxId = e.SandboxId,
            Status = e.Status.ToProto(),
            ExitCode = e.ExitCode,
            Signal = e.Signal,
            Error = e.Error,
            Tty = e.Tty,
            Kind = e.Tty ? ExecutionKind.Interactive : ExecutionKind.Batch,
            GuestPid = e.GuestPid,
            CreatedAt = Timestamp.FromDateTimeOffset(e.CreatedAt),
        };
        execution.Command.AddRange(e.Command);
        if (e.StartedAt is { } started)
        {
            execution.StartedAt = Timestamp.FromDateTimeOffset(started);
        }

        if (e.FinishedAt is { } finished)
        {
            execution.FinishedAt = Timestamp.FromDateTimeOffset(finished);
        }

        return execution;
    }

    public static ProtoSandboxStatus ToProto(this DomainSandboxStatus status) => status switch
    {
        DomainSandboxStatus.Provisioning => ProtoSandboxStatus.Provisioning,
        DomainSandboxStatus.Ready => ProtoSandboxStatus.Ready,
        DomainSandboxStatus.Stopping => ProtoSandboxStatus.Stopping,
        DomainSandboxStatus.Stopped => ProtoSandboxStatus.Stopped,
        DomainSandboxStatus.Failed => ProtoSandboxStatus.Failed,
        _ => ProtoSandboxStatus.Unspecified,
    };

    public static ProtoExecutionStatus ToProto(this DomainExecutionStatus status) => status switch
    {
        DomainExecutionStatus.Queued => ProtoExecutionStatus.Queued,
        DomainExecutionStatus.Running => ProtoExecutionStatus.Running,
        DomainExecutionStatus.Succeeded => ProtoExecutionStatus.Succeeded,
        DomainExecutionStatus.Failed => ProtoExecutionStatus.Failed,
        DomainExecutionStatus.Canceled => ProtoExecutionStatus.Canceled,
        DomainExecutionStatus.TimedOut => ProtoExecutionStatus.TimedOut,
        _ => ProtoExecutionStatus.Unspecified,
    };
}
