namespace Cleanroom.Daemon.Workspaces;

/// <summary>A create's request to check a repository out at an exact commit: a local one, or a remote one by URL.</summary>
/// <param name="LocalPath">Absolute host path of a local repository (working tree or git directory); empty with <paramref name="Url"/>.</param>
/// <param name="Commit">Full object id for a local repository (the client resolved HEAD); any revision name, or empty for the default branch, with <paramref name="Url"/>.</param>
/// <param name="DisplayName">How a local repository is shown (e.g. its remote's URL); empty means <paramref name="LocalPath"/>.</param>
/// <param name="Url">A remote repository the daemon fetches into its repository store.</param>
public sealed record RepositoryRequest(string LocalPath, string Commit, string DisplayName = "", string Url = "");
