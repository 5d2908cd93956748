namespace Cleanroom.Workspaces.Changes;

/// <summary>One path a sandbox changed against its checkout.</summary>
/// <param name="Path">Relative to the repository root, '/'-separated.</param>
/// <param name="Status">'A' added, 'M' modified, 'D' deleted, 'T' only the type or executable bit changed.</param>
/// <param name="Bytes">Size of the new content (0 for a deletion).</param>
public sealed record WorkspaceChange(string Path, char Status, long Bytes);
