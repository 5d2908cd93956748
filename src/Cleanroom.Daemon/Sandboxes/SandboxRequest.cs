using Cleanroom.Policy;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>What a create asks for. Zero vCPUs or memory means the daemon default; the policy's floors raise them.</summary>
public sealed record SandboxRequest(string? ImageRef, int Vcpus = 0, int MemoryMiB = 0, CompiledPolicy? Policy = null);
