namespace Cleanroom.Workspaces.Changes;

/// <summary>A changed path that is not copied, and why.</summary>
/// <param name="Path">The path made printable (bytes that are not UTF-8 escaped).</param>
/// <param name="Reason">Why it is skipped, e.g. "submodule (not supported yet)".</param>
public sealed record SkippedPath(string Path, string Reason);
