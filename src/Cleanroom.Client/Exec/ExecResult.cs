namespace Cleanroom.Client.Exec;

/// <summary>The result of an exec: the code the client should exit with, and where the command ran.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="ExitCode">The guest command's exit code (128+N after signal N), 128+N after detaching on
/// signal N, 141 on a broken pipe, or 1 when the daemon failed.</param>
/// <param name="SandboxId">Where it ran (null when no sandbox was reached).</param>
/// <param name="ExecutionId">The execution (null when none was started).</param>
public sealed record ExecResult(ExecOutcome Outcome, int ExitCode, string? SandboxId, string? ExecutionId);
