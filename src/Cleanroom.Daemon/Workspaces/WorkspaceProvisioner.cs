using Cleanroom.Escaping;
using Cleanroom.Policy;
using Cleanroom.Workspaces;
using Grpc.Core;

namespace Cleanroom.Daemon.Workspaces;

/// <summary>
/// Turns a create's repository request into the disk a sandbox boots with: checks the request against the policy's
/// repository block, gets the commit's read-only image from the store (built once per commit, then a lookup), and
/// says it all as the daemon's errors. The image is shared by every sandbox on that commit; each guest writes only
/// to its own overlay on its root disk.
/// </summary>
/// <param name="store">The commit images.</param>
/// <param name="maxStoreBytes">After a build, least recently used images go until the store fits in this.</param>
public sealed class WorkspaceProvisioner(WorkspaceImageStore store, long maxStoreBytes)
{
    /// <summary>Longest repository path or display name accepted (they are stored and shown).</summary>
    public const int MaxNameLength = 1024;

    /// <summary>The store behind this provisioner (prune, doctor).</summary>
    public WorkspaceImageStore Store { get; } = store;

    /// <summary>
    /// Validates <paramref name="request"/> against <paramref name="settings"/> and returns the commit's image with
    /// the record to keep. Throws <see cref="DaemonException"/> (invalid_argument, repository_invalid,
    /// workspace_too_large) for anything the user can fix.
    /// </summary>
    public async Task<(SandboxWorkspace Workspace, string ImagePath)> PrepareAsync(RepositoryRequest request, RepositorySettings settings, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(settings);
        Validate(request, settings);
        WorkspaceImage image;
        try
        {
            image = await Store.EnsureAsync(request.LocalPath, request.Commit, ct);
        }
        catch (WorkspaceException ex)
        {
            throw Translate(ex);
        }

        if (image.Built)
        {
            // Only a build grows the store. This image was just used, so it is the last one a prune would take.
            await Store.PruneAsync(maxStoreBytes, ct);
        }

        if (image.Commit != request.Commit)
        {
            // A full object id resolves to itself; anything else means the repository answered for another object.
            throw new DaemonException(StatusCode.FailedPrecondition, ReasonCode.RepositoryInvalid,
                $"commit {request.Commit} resolved to {image.Commit} in {UntrustedText.Quote(request.LocalPath)}");
        }

        var display = request.DisplayName.Length > 0 ? request.DisplayName : request.LocalPath;
        return (new SandboxWorkspace(display, image.Commit, settings.Path, LocalChangesCopied: false, image.Built, image.SkippedSubmodules), image.Path);
    }

    /// <summary>The checks that need no file system, so a bad request fails before anything is admitted.</summary>
    public static void Validate(RepositoryRequest request, RepositorySettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.Enabled)
        {
            throw DaemonException.InvalidArgument("a repository checkout was requested, but the policy turns it off (repository.enabled: false or mode: none)");
        }

        if (request.LocalPath.Length is 0 or > MaxNameLength || !Path.IsPathFullyQualified(request.LocalPath) || request.LocalPath.Any(char.IsControl))
        {
            throw DaemonException.InvalidArgument($"repository path {UntrustedText.Quote(request.LocalPath)} must be an absolute host path without control characters, at most {MaxNameLength} characters");
        }

        if (!IsObjectId(request.Commit))
        {
            throw DaemonException.InvalidArgument($"repository commit {UntrustedText.Quote(request.Commit)} must be a full object id (40 or 64 lower-case hex digits)");
        }

        if (request.DisplayName.Length > MaxNameLength || request.DisplayName.Any(char.IsControl))
        {
            throw DaemonException.InvalidArgument($"repository display name must be at most {MaxNameLength} characters without control characters");
        }
    }

    /// <summary>The kernel argument that tells the guest agent where to mount the workspace disk.</summary>
    public static string KernelArgument(string guestPath) => "cleanroom.workspace=" + guestPath;

    private static DaemonException Translate(WorkspaceException ex) => ex.Kind switch
    {
        WorkspaceErrorKind.TooLarge => new DaemonException(StatusCode.ResourceExhausted, ReasonCode.WorkspaceTooLarge, ex.Message),
        WorkspaceErrorKind.BuildFailed => new DaemonException(StatusCode.Internal, ReasonCode.RuntimeLaunchFailed, "building the workspace image failed: " + ex.Message),
        _ => new DaemonException(StatusCode.FailedPrecondition, ReasonCode.RepositoryInvalid, ex.Message),
    };

    private static bool IsObjectId(string value) =>
        value.Length is 40 or 64 && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));
}
