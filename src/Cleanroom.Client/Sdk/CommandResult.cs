using Cleanroom.Client.Exec;

namespace Cleanroom.Client.Sdk;

/// <summary>How a command run by <see cref="CleanroomClient"/> ended.</summary>
/// <param name="ExecutionId">The daemon's id of the execution (for GetExecution, StreamExecution).</param>
/// <param name="Outcome"><see cref="ExecOutcome.Exited"/>, or <see cref="ExecOutcome.BrokenPipe"/> when writing
/// to the caller's stdout failed and the command was sent SIGPIPE.</param>
/// <param name="ExitCode">The command's exit code; 128 + N when signal N ended it.</param>
/// <param name="Signal">The signal that ended the command, 0 when it exited on its own, null when the daemon's
/// record could not be read.</param>
/// <param name="Messages">What the daemon said besides the output (e.g. <c>command not found: foo</c>).</param>
public sealed record CommandResult(string ExecutionId, ExecOutcome Outcome, int ExitCode, int? Signal, IReadOnlyList<string> Messages);
