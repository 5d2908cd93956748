using Cleanroom.Escaping;
using Cleanroom.Policy;
using Cleanroom.Workspaces;
using Cleanroom.Workspaces.Repositories;
using Grpc.Core;

namespace Cleanroom.Daemon.Workspaces;

/// <summary>
/// Turns a create's repository request into the disk a sandbox boots with: checks the request against the policy's
/// repository block, fetches a remote repository into the repository store (host credentials, never the guest's),
/// gets the commit's read-only image from the image store (built once per commit, then a lookup), and says it all as
/// the daemon's errors. The image is shared by every sandbox on that commit; each guest writes only to its own
/// overlay on its root disk.
/// </summary>
/// <param name="images">The commit images.</param>
/// <param name="repositories">Mirrors of remote repositories (for <c>--repo-url</c>).</param>
/// <param name="maxImageStoreBytes">After a build, least recently used images go until the image store fits in this.</param>
public sealed class WorkspaceProvisioner(WorkspaceImageStore images, RepositoryStore repositories, long maxImageStoreBytes)
{
    /// <summary>Longest repository path, URL, revision or display name accepted (they are stored and shown).</summary>
    public const int MaxNameLength = 1024;

    /// <summary>
    /// Validates <paramref name="request"/> against <paramref name="settings"/> and returns the commit's image with
    /// the record to keep. Throws <see cref="DaemonException"/> (invalid_argument, repository_invalid,
    /// workspace_too_large) for anything the user can fix. Submodules that are not on the host are fetched only from
    /// destinations <paramref name="egress"/> lets the guest reach (or any with <paramref name="allowAll"/>).
    /// </summary>
    public async Task<(SandboxWorkspace Workspace, string ImagePath)> PrepareAsync(
        RepositoryRequest request, RepositorySettings settings, NetworkPolicy egress, bool allowAll, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(egress);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(settings);
        Validate(request, settings);
        string repositoryPath, commit, display;
        string? fetchedFrom = null;
        if (request.Url.Length > 0)
        {
            MirroredCommit mirrored;
            try
            {
                mirrored = await repositories.EnsureAsync(request.Url, request.Commit.Length == 0 ? null : request.Commit, ct);
            }
            catch (RepositoryException ex)
            {
                throw Translate(ex);
            }

            (repositoryPath, commit, display, fetchedFrom) = (mirrored.MirrorPath, mirrored.Commit, mirrored.Url, request.Url);
            if (mirrored.Fetched)
            {
                await repositories.PruneAsync(ct);
            }
        }
        else
        {
            (repositoryPath, commit, display) = (request.LocalPath, request.Commit, request.DisplayName.Length > 0 ? request.DisplayName : request.LocalPath);
        }

        WorkspaceImage image;
        try
        {
            // Submodules are resolved on the host: a local repository's own module directories first, otherwise
            // fetched into the repository store with the host's credentials (relative URLs against the one given),
            // but only from where the guest could go itself: a hostile .gitmodules must not turn the host's
            // credentials on a private repository the policy does not name.
            var checkout = new WorkspaceCheckoutOptions
            {
                Submodules = settings.Submodules,
                RepositoryUrl = fetchedFrom,
                SubmoduleFetchAllowed = (host, port) => allowAll || egress.Evaluate(host, port).IsAllowed,
            };
            image = await images.EnsureAsync(repositoryPath, commit, checkout, ct);
        }
        catch (WorkspaceException ex)
        {
            throw Translate(ex);
        }

        if (image.Built)
        {
            // Only a build grows the store. This image was just used, so it is the last one a prune would take.
            await images.PruneAsync(maxImageStoreBytes, ct);
        }

        if (image.Commit != commit)
        {
            // A full object id resolves to itself; anything else means the repository answered for another object.
            throw new DaemonException(StatusCode.FailedPrecondition, ReasonCode.RepositoryInvalid,
                $"commit {commit} resolved to {image.Commit} in {UntrustedText.Quote(display)}");
        }

        return (new SandboxWorkspace(display, image.Commit, settings.Path, LocalChangesCopied: false, image.Built, image.SkippedSubmodules), image.Path);
    }

    /// <summary>The checks that need no file system or network, so a bad request fails before anything is admitted.</summary>
    public static void Validate(RepositoryRequest request, RepositorySettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.Enabled)
        {
            throw DaemonException.InvalidArgument("a repository checkout was requested, but the policy turns it off (repository.enabled: false or mode: none)");
        }

        if ((request.LocalPath.Length > 0) == (request.Url.Length > 0))
        {
            throw DaemonException.InvalidArgument("a repository checkout names either a local path or a URL, exactly one of them");
        }

        if (request.Url.Length > 0)
        {
            Require(request.Url, "repository URL");
            Require(request.Commit, "repository revision", allowEmpty: true);
            return;
        }

        Require(request.LocalPath, "repository path");
        if (!Path.IsPathFullyQualified(request.LocalPath))
        {
            throw DaemonException.InvalidArgument($"repository path {UntrustedText.Quote(request.LocalPath)} must be an absolute host path");
        }

        if (!IsObjectId(request.Commit))
        {
            throw DaemonException.InvalidArgument($"repository commit {UntrustedText.Quote(request.Commit)} must be a full object id (40 or 64 lower-case hex digits)");
        }

        Require(request.DisplayName, "repository display name", allowEmpty: true);
    }

    /// <summary>The kernel argument that tells the guest agent where to mount the workspace disk.</summary>
    public static string KernelArgument(string guestPath) => "cleanroom.workspace=" + guestPath;

    private static void Require(string value, string what, bool allowEmpty = false)
    {
        if ((!allowEmpty && value.Length == 0) || value.Length > MaxNameLength || value.Any(char.IsControl))
        {
            throw DaemonException.InvalidArgument($"{what} {UntrustedText.Quote(value)} must be {(allowEmpty ? "" : "non-empty, ")}at most {MaxNameLength} characters, without control characters");
        }
    }

    private static DaemonException Translate(WorkspaceException ex) => ex.Kind switch
    {
        WorkspaceErrorKind.TooLarge => new DaemonException(StatusCode.ResourceExhausted, ReasonCode.WorkspaceTooLarge, ex.Message),
        WorkspaceErrorKind.BuildFailed => new DaemonException(StatusCode.Internal, ReasonCode.RuntimeLaunchFailed, "building the workspace image failed: " + ex.Message),
        _ => new DaemonException(StatusCode.FailedPrecondition, ReasonCode.RepositoryInvalid, ex.Message),
    };

    private static DaemonException Translate(RepositoryException ex) => ex.Kind switch
    {
        RepositoryErrorKind.TooLarge => new DaemonException(StatusCode.ResourceExhausted, ReasonCode.WorkspaceTooLarge, ex.Message),
        RepositoryErrorKind.InvalidUrl => new DaemonException(StatusCode.InvalidArgument, ReasonCode.RepositoryInvalid, ex.Message),
        RepositoryErrorKind.FetchFailed => new DaemonException(StatusCode.Unavailable, ReasonCode.RepositoryInvalid, ex.Message),
        _ => new DaemonException(StatusCode.FailedPrecondition, ReasonCode.RepositoryInvalid, ex.Message),
    };

    private static bool IsObjectId(string value) =>
        value.Length is 40 or 64 && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));
}
