namespace Cleanroom.Workspaces;

/// <summary>A read-only ext4 image holding one commit's tree and a minimal <c>.git</c>, ready to attach as a disk.</summary>
/// <param name="Path">Absolute path of the image file in the store.</param>
/// <param name="Commit">The full object id the image was built from.</param>
/// <param name="Built">True when this call built the image; false on a cache hit.</param>
/// <param name="SkippedSubmodules">Paths of submodules (gitlinks) left as empty directories.</param>
public sealed record WorkspaceImage(string Path, string Commit, bool Built, IReadOnlyList<string> SkippedSubmodules);
