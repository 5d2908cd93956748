namespace Cleanroom.Client.Exec;

/// <summary>What to run and where: the inputs of one <c>cleanroom exec</c>.</summary>
public sealed record ExecSpec
{
    /// <summary>Program and arguments, as the guest receives them.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Run in this existing sandbox (never removed); null creates a sandbox for this command.</summary>
    public string? SandboxId { get; init; }

    /// <summary>Keep a sandbox this exec created instead of terminating it afterwards.</summary>
    public bool Keep { get; init; }

    /// <summary>Image for a created sandbox; null or empty means the daemon's default.</summary>
    public string? ImageRef { get; init; }

    /// <summary>The repository's compiled policy (JSON) for a created sandbox; null when there is none.</summary>
    public string? CompiledPolicy { get; init; }

    /// <summary>Create the sandbox with egress filtering off (<c>--dangerously-allow-all</c>); it is still audited.</summary>
    public bool DangerouslyAllowAll { get; init; }

    /// <summary>The repository a created sandbox checks out at an exact commit; null for none.</summary>
    public Cleanroom.Api.V1.RepositoryCheckout? Repository { get; init; }

    /// <summary>vCPUs for a created sandbox; 0 means the daemon's default.</summary>
    public int Vcpus { get; init; }

    /// <summary>Memory for a created sandbox; 0 means the daemon's default.</summary>
    public int MemoryMiB { get; init; }

    /// <summary>KEY=VALUE entries added to the command's environment (see <see cref="EnvironmentEntries"/>).</summary>
    public IReadOnlyList<string> Environment { get; init; } = [];

    /// <summary>Guest working directory; null for the default.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Guest user; null for the image's.</summary>
    public string? User { get; init; }

    /// <summary>Run the command on a pseudo-terminal (stdout and stderr then arrive merged as stdout).</summary>
    public bool Tty { get; init; }

    /// <summary>Terminal size for <see cref="Tty"/>; 0 lets the guest choose.</summary>
    public int Columns { get; init; }

    /// <summary>Terminal height for <see cref="Tty"/>; 0 lets the guest choose.</summary>
    public int Rows { get; init; }

    /// <summary>Forward <see cref="ExecIo.Stdin"/> to the command; otherwise its stdin is closed at once.</summary>
    public bool AttachStdin { get; init; }
}
