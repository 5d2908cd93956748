namespace Cleanroom.Workspaces.Changes;

/// <summary>A path the copy-out would overwrite or delete although it changed locally since the sandbox started.</summary>
/// <param name="Path">Relative to the repository root.</param>
/// <param name="Reason">"changed locally", "deleted locally", or "not in the sandbox's starting tree".</param>
public sealed record CopyOutConflict(string Path, string Reason);
