namespace Cleanroom.Daemon.State;

/// <summary>What one <see cref="StateStore.PruneRecords"/> deleted: the sandboxes, and the executions with their sandbox.</summary>
public sealed record PrunedRecords(IReadOnlyList<string> Sandboxes, IReadOnlyList<(string SandboxId, string ExecutionId)> Executions);
