namespace Cleanroom.Daemon.Pool;

/// <summary>
/// The kind of sandbox a pooled VM can become: its requested image (empty for the built-in one), vCPUs and memory.
/// Anything else about the sandbox (its policy) is applied when one takes the VM; sandboxes with a repository
/// workspace or a grown root disk are not pooled.
/// </summary>
internal sealed record PoolRecipe(string ImageRef, int Vcpus, int MemoryMiB);
