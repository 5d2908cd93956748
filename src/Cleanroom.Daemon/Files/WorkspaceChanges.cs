using System.Text;
using Cleanroom.Daemon.Sandboxes;
using Cleanroom.Daemon.Workspaces;
using Grpc.Core;

namespace Cleanroom.Daemon.Files;

/// <summary>
/// The daemon's half of workspace copy-in, copy-out and diff. Copy-in unpacks the client's changes tar (whiteouts
/// applied) into the workspace and keeps the client's base manifest with the sandbox; copy-out and diff stream the
/// guest's overlay changes (the agent's <c>workspace-changes</c> tool: cost follows the changes, not the repository)
/// after that manifest. Applying anything to a local tree is the client's job: it owns the tree.
/// </summary>
public sealed class WorkspaceChanges(SandboxManager sandboxes, SandboxFiles files, DaemonOptions options)
{
    /// <summary>Largest base manifest kept (JSON; about 100 bytes per copied path).</summary>
    public const int MaxManifestChars = 64 << 20;

    /// <summary>Where the guest agent mounts the commit's image and keeps the overlay's upper layer (see WorkspaceMount in the agent).</summary>
    internal const string GuestLower = "/run/cleanroom/workspace.lower";

    internal const string GuestUpper = "/var/lib/cleanroom/workspace/upper";

    private const string ManifestFile = "workspace-base.json";

    /// <summary>Unpacks the copy-in tar into the workspace, then keeps the manifest and marks the sandbox.</summary>
    public async Task<long> CopyInAsync(string sandboxId, Func<Stream, StringBuilder, CancellationToken, Task> archive, CancellationToken ct)
    {
        var (record, workspace) = Workspace(sandboxId);
        var manifest = new StringBuilder();
        var bytes = await files.ExtractAsync(sandboxId, workspace.Path, whiteouts: true, ownerOfRoot: true, (stdin, token) => archive(stdin, manifest, token), ct);
        if (manifest.Length > MaxManifestChars)
        {
            throw new DaemonException(StatusCode.ResourceExhausted, ReasonCode.WorkspaceTooLarge, $"the copy-in's base manifest is larger than {MaxManifestChars} characters");
        }

        var path = Path.Combine(record.WorkDir, ManifestFile);
        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, manifest.ToString(), ct);
        File.Move(temporary, path, overwrite: true);
        sandboxes.MarkLocalChangesCopied(sandboxId);
        return bytes;
    }

    /// <summary>
    /// Calls <paramref name="header"/> with the workspace and its base manifest, then streams the guest's changes tar
    /// to <paramref name="sink"/> (at most <see cref="DaemonOptions.MaxArchiveBytes"/>).
    /// </summary>
    public async Task ArchiveAsync(string sandboxId, Func<SandboxWorkspace, string, CancellationToken, Task> header, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> sink, CancellationToken ct)
    {
        var (record, workspace) = Workspace(sandboxId);
        var path = Path.Combine(record.WorkDir, ManifestFile);
        var manifest = File.Exists(path) ? await File.ReadAllTextAsync(path, ct) : "";
        await header(workspace, manifest, ct);
        await files.RunToolAsync(sandboxId, ["workspace-changes", GuestLower, GuestUpper], options.MaxArchiveBytes, sink, ct);
    }

    private (State.SandboxRecord Record, SandboxWorkspace Workspace) Workspace(string sandboxId)
    {
        var record = sandboxes.Get(sandboxId);
        return record.Workspace is { } workspace
            ? (record, workspace)
            : throw DaemonException.NotReady($"sandbox {sandboxId} has no workspace: it was created outside a git repository (or with repository.enabled: false)");
    }
}
