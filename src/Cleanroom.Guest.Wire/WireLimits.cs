namespace Cleanroom.Guest.Wire;

/// <summary>
/// Size and time bounds that each side enforces on what it reads. Both sides announce their frame limit and initial
/// window in the hello; each side enforces its own limits on input regardless of what the peer claims.
/// </summary>
public sealed record WireLimits
{
    public static readonly WireLimits Default = new();

    /// <summary>Largest payload accepted in one frame.</summary>
    public int MaxFramePayload { get; init; } = 256 * 1024;

    /// <summary>Bytes a sender may have in flight per stream before it must wait for a window update.</summary>
    public int InitialWindow { get; init; } = 1024 * 1024;

    /// <summary>Most process streams open at once on one connection.</summary>
    public int MaxStreams { get; init; } = 256;

    /// <summary>Most argv or environment entries in one exec request.</summary>
    public int MaxListEntries { get; init; } = 4096;

    /// <summary>Once a frame header arrives, its payload must follow within this time.</summary>
    public TimeSpan FrameBodyTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
