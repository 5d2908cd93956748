using System.IO.Pipelines;
using System.Text;
using Cleanroom.Api.V1;
using Cleanroom.Client;
using Cleanroom.Workspaces.Changes;
using Google.Protobuf;

namespace Cleanroom.Cli.Workspaces;

/// <summary>
/// The client's half of workspace copies. The local tree is the user's, so both ends of it run here: copy-in finds
/// the uncommitted changes against the sandbox's commit and streams them as a whiteout tar (with the base manifest
/// after it); copy-out streams the guest's changes into the confined, all-or-nothing applier, which compares every
/// path against that manifest (or the commit) and refuses to overwrite local edits made meanwhile unless forced.
/// </summary>
internal static class WorkspaceTransfer
{
    /// <summary>Manifest pieces per message: far below the daemon's message limit.</summary>
    private const int ManifestPiece = 1 << 20;

    /// <summary>Largest base manifest accepted from the daemon (it is the client's own, kept by the daemon).</summary>
    private const int MaxManifestChars = 64 << 20;

    /// <summary>Copies the local changes against <paramref name="commit"/> into the sandbox's workspace; returns how many paths went.</summary>
    public static async Task<int> CopyInAsync(DaemonConnection connection, string sandboxId, string repositoryRoot, string commit, CancellationToken ct)
    {
        var changes = await LocalChanges.FindAsync(repositoryRoot, commit, null, ct);
        changes.EnsureWithinLimits();
        using var call = connection.Sandboxes.ExtractSandboxArchive(cancellationToken: ct);
        var tar = new Files.ExtractRequestStream(call.RequestStream, new ExtractSandboxArchiveRequest { SandboxId = sandboxId, WorkspaceCopyIn = true });
        var manifest = await changes.WriteTarAsync(tar, ct);
        var json = manifest.ToJson();
        await tar.CompleteAsync(ct, Enumerable.Range(0, (json.Length + ManifestPiece - 1) / ManifestPiece)
            .Select(i => new ExtractSandboxArchiveRequest { BaseManifest = json.Substring(i * ManifestPiece, Math.Min(ManifestPiece, json.Length - (i * ManifestPiece))) }));
        await call.ResponseAsync;
        return changes.Changed.Count + changes.Deleted.Count;
    }

    /// <summary>Copies the sandbox's workspace changes into the working tree at <paramref name="repositoryRoot"/> (or plans it: <see cref="CopyOutOptions.DryRun"/>).</summary>
    public static Task<CopyOutResult> CopyOutAsync(DaemonConnection connection, string sandboxId, string repositoryRoot, CopyOutOptions options, CancellationToken ct) =>
        ReadChangesAsync(connection, sandboxId, (_, manifest, tar, token) => CopyOut.RunAsync(repositoryRoot, manifest, tar, options, token), ct);

    /// <summary>The sandbox's changes against its checkout, classified with the commit's tree from <paramref name="repositoryRoot"/>.</summary>
    public static Task<IReadOnlyList<WorkspaceChange>> DiffAsync(DaemonConnection connection, string sandboxId, string repositoryRoot, CancellationToken ct) =>
        ReadChangesAsync(connection, sandboxId, (commit, _, tar, token) => WorkspaceDiff.ComputeAsync(tar, repositoryRoot, commit, Cleanroom.Workspaces.Transfer.TransferLimits.Default, token), ct);

    /// <summary>
    /// Streams ArchiveWorkspaceChanges into <paramref name="consume"/> (commit, base manifest, tar) through a pipe, so
    /// the tar is never held whole; when the consumer stops reading (it refused the archive), the stream is dropped.
    /// </summary>
    private static async Task<T> ReadChangesAsync<T>(DaemonConnection connection, string sandboxId, Func<string, BaseManifest, Stream, CancellationToken, Task<T>> consume, CancellationToken ct)
    {
        using var call = connection.Sandboxes.ArchiveWorkspaceChanges(new ArchiveWorkspaceChangesRequest { SandboxId = sandboxId }, cancellationToken: ct);
        var responses = call.ResponseStream;
        var commit = "";
        var manifestText = new StringBuilder();
        ByteString? firstData = null;
        while (await responses.MoveNext(ct))
        {
            var message = responses.Current;
            commit = message.Commit.Length > 0 ? message.Commit : commit;
            if (manifestText.Length + message.BaseManifest.Length > MaxManifestChars)
            {
                throw new InvalidDataException($"the daemon sent a base manifest larger than {MaxManifestChars} characters");
            }

            manifestText.Append(message.BaseManifest);
            if (message.Data.Length > 0)
            {
                firstData = message.Data;
                break;
            }
        }

        var manifest = manifestText.Length == 0 ? BaseManifest.Empty(commit) : BaseManifest.FromJson(manifestText.ToString());
        var pipe = new Pipe();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var consuming = Task.Run(async () =>
        {
            await using var reader = pipe.Reader.AsStream();
            try
            {
                return await consume(commit, manifest, reader, stop.Token);
            }
            finally
            {
                await stop.CancelAsync(); // the consumer is done (or failed): stop feeding it
            }
        }, CancellationToken.None);
        try
        {
            if (firstData is not null)
            {
                await pipe.Writer.WriteAsync(firstData.Memory, stop.Token);
                while (await responses.MoveNext(stop.Token))
                {
                    if ((await pipe.Writer.WriteAsync(responses.Current.Data.Memory, stop.Token)).IsCompleted)
                    {
                        break;
                    }
                }
            }

            await pipe.Writer.CompleteAsync();
        }
        catch (Exception ex)
        {
            // Either the consumer stopped reading (it refused the archive: its finally cancelled `stop`, which this
            // loop then met), or the stream failed (the guest tool failed halfway, the daemon went away). The consumer
            // reads to the end before it acts, so handing it the failure stops it; wait for it either way, so nothing
            // is still being applied when this returns.
            await pipe.Writer.CompleteAsync(ex);
            await Task.WhenAny(consuming);
            if (stop.IsCancellationRequested && !ct.IsCancellationRequested && CallCancellation.IsCancellation(ex))
            {
                return await consuming; // its result or error says why it stopped
            }

            throw;
        }

        return await consuming;
    }
}
