namespace Cleanroom.Workspaces.Submodules;

/// <summary>A submodule whose commit was found on the host, ready to be laid out in the image.</summary>
/// <param name="Name">Its <c>.gitmodules</c> name: its git directory is <c>modules/NAME</c> of its superproject's.</param>
/// <param name="Path">Where it is in its superproject's tree.</param>
/// <param name="Commit">The commit the superproject records.</param>
/// <param name="Source">A repository on the host that has the commit's objects (a module directory or a mirror).</param>
/// <param name="Children">Its own submodules, resolved the same way.</param>
/// <param name="Listing">Its tree's entries when the scan kept them (see <see cref="Git.TreeSummary.Listing"/>).</param>
internal sealed record ResolvedSubmodule(
    string Name, string Path, string Commit, string Source, IReadOnlyList<ResolvedSubmodule> Children, IReadOnlyList<Git.TreeEntry>? Listing = null);
