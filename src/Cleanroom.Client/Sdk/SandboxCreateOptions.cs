using Cleanroom.Api.V1;

namespace Cleanroom.Client.Sdk;

/// <summary>
/// How <see cref="CleanroomClient.EnsureSandboxAsync"/> creates a sandbox when none exists for the key. Ignored when
/// the key's sandbox already exists: that sandbox is returned as it is.
/// </summary>
public sealed record SandboxCreateOptions
{
    /// <summary>The daemon's defaults: its default image, vCPUs and memory, no policy, no repository.</summary>
    public static readonly SandboxCreateOptions Default = new();

    /// <summary>Image to boot (e.g. <c>docker.io/library/debian:bookworm</c>); null means the daemon's default image.</summary>
    public string? ImageRef { get; init; }

    /// <summary>vCPUs; 0 means the daemon's default (a policy's floor can raise it).</summary>
    public int Vcpus { get; init; }

    /// <summary>Memory in MiB; 0 means the daemon's default (a policy's floor can raise it).</summary>
    public int MemoryMiB { get; init; }

    /// <summary>A compiled policy (the JSON <c>cleanroom policy show --json</c> prints); null for none (no network).</summary>
    public string? CompiledPolicy { get; init; }

    /// <summary>Egress to anything except the always-blocked ranges (<c>--dangerously-allow-all</c>); still audited.</summary>
    public bool DangerouslyAllowAll { get; init; }

    /// <summary>A repository to check out at an exact commit (a local path or a URL); null for none.</summary>
    public RepositoryCheckout? Repository { get; init; }
}
