namespace Cleanroom.Workspaces.Changes;

/// <summary>A regular file or symlink of the working tree that differs from the commit.</summary>
/// <param name="Path">Relative to the repository root.</param>
/// <param name="Bytes">Size at the time it was listed; 0 for a symlink.</param>
internal sealed record LocalFile(string Path, bool IsSymlink, long Bytes);
