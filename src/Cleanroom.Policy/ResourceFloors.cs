namespace Cleanroom.Policy;

/// <summary>
/// The <c>sandbox.resources</c> minimums. A host may give a sandbox more than this, never less; null means the
/// policy leaves that resource to the host default.
/// </summary>
/// <param name="Vcpus">Minimum virtual CPUs.</param>
/// <param name="MemoryBytes">Minimum memory in bytes.</param>
/// <param name="DiskBytes">Minimum root disk size in bytes.</param>
public sealed record ResourceFloors(int? Vcpus, long? MemoryBytes, long? DiskBytes)
{
    /// <summary>No floors: everything at host defaults.</summary>
    public static ResourceFloors None { get; } = new(null, null, null);
}
