namespace Cleanroom.Gateway.Server;

/// <summary>
/// Host-side bare mirrors of git repositories (the daemon's repository store) that the git route may answer from when
/// the upstream fails or is slow. Only looked up after the route has checked the sandbox's policy for the host and
/// found an earlier answer for the repository in the request's credential scope.
/// </summary>
public interface IGitMirrors
{
    /// <summary>
    /// The bare mirror of <c>https://<paramref name="host"/><paramref name="repositoryPath"/></c> (with or without a
    /// trailing <c>.git</c>), or null when there is none. <paramref name="host"/> is a normalised DNS name and
    /// <paramref name="repositoryPath"/> the guest's path as the route checked it (leading <c>/</c>, no dot segments,
    /// still %-encoded); both come from a guest, so an implementation must never name a directory outside its store.
    /// </summary>
    string? Find(string host, string repositoryPath);
}
