using System.Collections.Immutable;

namespace Cleanroom.Policy;

/// <summary>The blocks of <c>sandbox.dependencies</c> or <c>sandbox.services</c>, in the order they run.</summary>
/// <param name="Reuse">How their outputs may be reused.</param>
/// <param name="Blocks">The blocks in file order: order is meaningful, so it is never sorted.</param>
public sealed record SetupBlockGroup(CacheReuse Reuse, ImmutableArray<SetupBlock> Blocks)
{
    /// <summary>No blocks.</summary>
    public static SetupBlockGroup Empty { get; } = new(CacheReuse.Exact, []);
}
