using Cleanroom.Gateway.Server;
using Cleanroom.Workspaces.Repositories;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// The gateway's git mirrors are the repository store's: the mirror of <c>https://HOST/PATH</c> (normalised as the
/// store normalises any URL, so <c>PATH</c> and <c>PATH.git</c> are one mirror). The store names mirrors by a hash of
/// the URL, so whatever a guest puts in the host or path, the answer is a directory in the store or null.
/// </summary>
public sealed class RepositoryGitMirrors(RepositoryStore store) : IGitMirrors
{
    /// <inheritdoc/>
    public string? Find(string host, string repositoryPath)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(repositoryPath);
        return repositoryPath.StartsWith('/') ? store.FindMirror("https://" + host + repositoryPath) : null;
    }
}
