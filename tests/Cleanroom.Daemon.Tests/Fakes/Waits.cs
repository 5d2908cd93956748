namespace Cleanroom.Daemon.Tests.Fakes;

/// <summary>How long a test waits for an event before it fails (nothing here takes more than milliseconds).</summary>
internal static class Waits
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a harness waits for the manager's shutdown, which terminates every sandbox a test made (a hundred and
    /// fifty in the boot race test) on a CI machine that may be running VM suites beside it: once it took over 10 s.
    /// </summary>
    public static readonly TimeSpan Shutdown = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a test watches for something that must NOT happen (a removal while held). Asserting an absence needs
    /// time to pass; this is a few detach graces, never a wait for something to be ready.
    /// </summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(600);
}
