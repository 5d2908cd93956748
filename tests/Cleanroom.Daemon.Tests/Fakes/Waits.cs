namespace Cleanroom.Daemon.Tests.Fakes;

/// <summary>How long a test waits for an event before it fails (nothing here takes more than milliseconds).</summary>
internal static class Waits
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a test watches for something that must NOT happen (a removal while held). Asserting an absence needs
    /// time to pass; this is a few detach graces, never a wait for something to be ready.
    /// </summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(600);
}
