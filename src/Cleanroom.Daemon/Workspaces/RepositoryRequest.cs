namespace Cleanroom.Daemon.Workspaces;

/// <summary>A create's request to check a local repository out at an exact commit.</summary>
/// <param name="LocalPath">Absolute host path of the repository (working tree or git directory).</param>
/// <param name="Commit">Full object id of the commit (the client resolved HEAD).</param>
/// <param name="DisplayName">How the repository is shown (e.g. its remote's URL); empty means <paramref name="LocalPath"/>.</param>
public sealed record RepositoryRequest(string LocalPath, string Commit, string DisplayName = "");
