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
}
