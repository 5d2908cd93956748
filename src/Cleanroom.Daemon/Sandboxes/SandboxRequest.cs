using Cleanroom.Policy;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>
/// What a create asks for. Zero vCPUs or memory means the daemon default; the policy's floors raise them.
/// <paramref name="AutoRemove"/>: the sandbox lives only as long as a client holds it (exec without --keep).
/// <paramref name="AllowAll"/>: <c>--dangerously-allow-all</c>, the only way to a network default of allow.
/// <paramref name="Repository"/>: check this repository out at the policy's repository.path.
/// <paramref name="ClientKey"/>: the caller's key; a live sandbox with this key is reused (see <see cref="SandboxManager.CreateOrReuseAsync"/>).
/// </summary>
public sealed record SandboxRequest(string? ImageRef, int Vcpus = 0, int MemoryMiB = 0, CompiledPolicy? Policy = null, bool AutoRemove = false, bool AllowAll = false, Workspaces.RepositoryRequest? Repository = null, string? ClientKey = null);
