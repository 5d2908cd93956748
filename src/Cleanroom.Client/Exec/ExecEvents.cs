namespace Cleanroom.Client.Exec;

/// <summary>What an exec reports besides the command's own output; all callbacks are optional.</summary>
public sealed record ExecEvents
{
    /// <summary>A sandbox was created for this exec (its id).</summary>
    public Action<string>? SandboxCreated { get; init; }

    /// <summary>The command was started (its execution id).</summary>
    public Action<string>? ExecutionStarted { get; init; }

    /// <summary>One line for the user (an error or a notice), without a program-name prefix.</summary>
    public Action<string>? Notice { get; init; }

    /// <summary>
    /// Runs once the sandbox exists and before the command starts (e.g. copying local changes in). False stops the
    /// exec as failed; the callback has said why.
    /// </summary>
    public Func<string, CancellationToken, Task<bool>>? Prepare { get; init; }

    /// <summary>
    /// Runs after the command exited (its exit code), before a created sandbox is removed (e.g. copying changes out).
    /// True keeps the sandbox (the callback has said why and named it).
    /// </summary>
    public Func<string, int, CancellationToken, Task<bool>>? Finish { get; init; }
}
