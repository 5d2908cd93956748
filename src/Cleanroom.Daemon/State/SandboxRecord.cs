
namespace Cleanroom.Daemon.State;

/// <summary>What the daemon remembers about a sandbox (one row of the sandboxes table).</summary>
public sealed record SandboxRecord
{
    public required string Id { get; init; }

    public required SandboxStatus Status { get; init; }

    public string StatusMessage { get; init; } = "";

    public required string Backend { get; init; }

    public required string ImageRef { get; init; }

    /// <summary>Digest of the image manifest booted; empty for the built-in image.</summary>
    public string ImageDigest { get; init; } = "";

    /// <summary>Hash of the compiled policy the sandbox was created with; empty when it had none.</summary>
    public string PolicyHash { get; init; } = "";

    public string Accelerator { get; init; } = "";

    public int Vcpus { get; init; }

    public int MemoryMiB { get; init; }

    public required string WorkDir { get; init; }

    public long BootMs { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    public string LastExecutionId { get; init; } = "";

    /// <summary>Created for one exec: the daemon removes it when no client holds it any more.</summary>
    public bool AutoRemove { get; init; }

    /// <summary>Created with --dangerously-allow-all (network default allow).</summary>
    public bool AllowAll { get; init; }

    /// <summary>The guest's address on its link; empty when the sandbox has no network.</summary>
    public string GuestAddress { get; init; } = "";

    /// <summary>The repository checked out in the sandbox; null when none was.</summary>
    public Workspaces.SandboxWorkspace? Workspace { get; init; }

    /// <summary><c>warm</c> (restored from a template) or <c>cold</c> (booted); empty until the VM started.</summary>
    public string StartMode { get; init; } = "";

    /// <summary>Why the sandbox started the way it did (the template it came from, or why it could not be warm).</summary>
    public string StartNote { get; init; } = "";

    /// <summary>How long each step of the create took, in order.</summary>
    public IReadOnlyList<BootPhase> BootPhases { get; init; } = [];

    /// <summary>The caller's key (see <see cref="Sandboxes.SandboxClientKey"/>); empty when it was created without one.</summary>
    public string ClientKey { get; init; } = "";

    /// <summary>
    /// The compiled policy the sandbox was created with (<see cref="Cleanroom.Policy.CompiledPolicy.ToJson"/>); empty
    /// when it had none. A restarted daemon rebuilds the sandbox's firewall and DNS filter from it.
    /// </summary>
    public string PolicyJson { get; init; } = "";

    public bool IsTerminal => Status is SandboxStatus.Stopped or SandboxStatus.Failed;
}
