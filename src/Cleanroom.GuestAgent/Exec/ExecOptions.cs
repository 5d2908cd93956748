namespace Cleanroom.GuestAgent.Exec;

/// <summary>Knobs of the exec handler; the defaults are what the guest uses.</summary>
internal sealed record ExecOptions
{
    public static readonly ExecOptions Default = new();

    /// <summary>The agent's own binary, spawned in exec-as mode to run as another user.</summary>
    public string SelfExecutable { get; init; } = "/proc/self/exe";

    /// <summary>
    /// After the process exits, output is drained until end of file, but a background child that keeps the pipe
    /// open must not hold the exec: give up after this long without data.
    /// </summary>
    public TimeSpan OutputIdleAfterExit { get; init; } = TimeSpan.FromMilliseconds(500);
}
