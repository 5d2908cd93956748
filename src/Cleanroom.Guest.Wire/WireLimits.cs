namespace Cleanroom.Guest.Wire;

/// <summary>
/// Size and time bounds that each side enforces on what it reads. Both sides announce their frame limit and initial
/// window in the hello; each side enforces its own limits on input regardless of what the peer claims.
/// </summary>
public sealed record WireLimits
{
    public static readonly WireLimits Default = new();

    /// <summary>
    /// The daemon's limits: an output window of 4 MiB per stream. The daemon grants window only once it has stored the
    /// output (the grant is also the guest's signal that it may forget those bytes), and on a busy host the threads
    /// between a frame's arrival and its grant wait for a CPU: with 1 MiB the guest stalled on window, and 4 MiB made
    /// `cleanroom exec` a quarter faster (bench/bench.py throughput, interleaved). The cost is memory that a sandbox's
    /// running commands can make the daemon hold while it cannot write their logs: 4 MiB each, at most
    /// <see cref="MaxStreams"/> of them, and only streams the daemon itself opened.
    /// </summary>
    public static readonly WireLimits Daemon = new() { InitialWindow = 4 * 1024 * 1024 };

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
