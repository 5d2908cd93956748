using Cleanroom.Images.Ext4;
using Cleanroom.Images.Rootfs;
using Cleanroom.Workspaces.Git;
using Cleanroom.Workspaces.Submodules;

namespace Cleanroom.Workspaces.Build;

/// <summary>
/// Builds a commit's image without a checkout: the trees' blobs are streamed from <c>git cat-file --batch</c> straight
/// into an ext4 image (<see cref="ImageTree"/>) while, at the same time, the <c>.git</c> directories (pack, refs,
/// index written from the listing) are staged; the staged files are then added and the image completed. Each file's
/// content is written once, where the checkout route wrote it to the stage, read it back and wrote it again in
/// <c>mkfs.ext4 -d</c>, which also flushed the image to disk.
/// </summary>
internal static class DirectImageBuild
{
    /// <summary>Bytes per entry on top of its content: a block for a small file or directory, room for its name in a directory.</summary>
    private const long BytesPerEntry = 4096 + 512;

    /// <summary>Room for the file system's own metadata (superblocks, group descriptors, bitmaps).</summary>
    private const long MetadataBytes = 64L << 20;

    /// <summary>What goes into the image.</summary>
    /// <param name="Repository">The host repository holding the commit.</param>
    /// <param name="Commit">The commit.</param>
    /// <param name="Listing">The commit's tree listing.</param>
    /// <param name="Submodules">Submodules to lay out, each with its listing.</param>
    /// <param name="Tags">Tags pointing at the commit.</param>
    /// <param name="ContentBytes">All trees' blob bytes.</param>
    /// <param name="Entries">All trees' entries plus room for the .git directories.</param>
    public sealed record Inputs(
        string Repository,
        string Commit,
        IReadOnlyList<TreeEntry> Listing,
        IReadOnlyList<ResolvedSubmodule> Submodules,
        IReadOnlyList<CommitTag> Tags,
        long ContentBytes,
        long Entries);

    /// <summary>Writes the image of <paramref name="inputs"/> to <paramref name="imagePath"/> (created) using the empty directory <paramref name="stage"/>.</summary>
    public static async Task WriteAsync(Inputs inputs, string stage, string imagePath, TimeSpan timeout, CancellationToken ct)
    {
        // Whole seconds (what checkStat=minimal compares); the .git (index included) one second later, so no file is
        // "racily clean" against the index.
        var mtime = (uint)Math.Clamp(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 0, uint.MaxValue - 1);
        // The pack holds at most the blobs (with zlib's few bytes of overhead) and the trees; the image file is
        // sparse, so room never used costs nothing.
        var capacity = RootfsSizing.AlignUp((2 * inputs.ContentBytes) + (inputs.Entries * BytesPerEntry) + MetadataBytes);
        var options = new Ext4ImageOptions(capacity, inputs.Entries + 64) { LostAndFound = false, TimestampSeconds = mtime, Label = "cleanroom-ws" };
        using var writer = Ext4ImageWriter.Create(imagePath, options);
        var image = new ImageTree(writer, mtime);

        using var failFast = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // A thread of its own: the blob reads block (see BlobBatch), and the copy is one long sequential job.
        var trees = CancelOthersOnFailure(
            Task.Factory.StartNew(() => WriteTreesAsync(image, inputs, mtime, timeout, failFast.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap(),
            failFast);
        var staging = CancelOthersOnFailure(StageGitAsync(inputs, stage, mtime, timeout, failFast.Token), failFast);
        try
        {
            await Task.WhenAll(trees, staging);
        }
        catch (Exception) when (!ct.IsCancellationRequested && FirstRealFailure(trees, staging) is { } cause)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
        }
        catch (Exception ex) when (ct.IsCancellationRequested && ex is not OperationCanceledException)
        {
            // Cancelled: whatever the cut-off step said (git killed mid-stream), the build was cancelled.
            throw new OperationCanceledException("The workspace image build was cancelled.", ex, ct);
        }

        image.WriteStage(stage, mtime + 1, ct);
        writer.Complete();
        // Read by the VMs' unprivileged uids through the "other" bit, as root images are.
        File.SetUnixFileMode(imagePath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    private static async Task WriteTreesAsync(ImageTree image, Inputs inputs, uint mtime, TimeSpan timeout, CancellationToken ct)
    {
        await image.WriteListingAsync(inputs.Repository, "", inputs.Listing, mtime, timeout, ct);
        await WriteSubmoduleTreesAsync(image, "", inputs.Submodules, mtime, timeout, ct);
    }

    private static async Task WriteSubmoduleTreesAsync(
        ImageTree image, string prefix, IReadOnlyList<ResolvedSubmodule> submodules, uint mtime, TimeSpan timeout, CancellationToken ct)
    {
        foreach (var submodule in submodules)
        {
            var path = prefix + submodule.Path + "/";
            await image.WriteListingAsync(submodule.Source, path, submodule.Listing!, mtime, timeout, ct);
            await WriteSubmoduleTreesAsync(image, path, submodule.Children, mtime, timeout, ct);
        }
    }

    private static async Task StageGitAsync(Inputs inputs, string stage, uint mtime, TimeSpan timeout, CancellationToken ct)
    {
        await StagedCheckout.CreateAsync(inputs.Repository, inputs.Commit, stage, timeout, ct, inputs.Tags, inputs.Listing, mtime);
        await SubmoduleStaging.StageAsync(stage, stage, Path.Combine(stage, ".git"), inputs.Submodules, timeout, ct, mtime);
    }

    private static async Task CancelOthersOnFailure(Task task, CancellationTokenSource others)
    {
        try
        {
            await task;
        }
        catch
        {
            await others.CancelAsync();
            throw;
        }
    }

    /// <summary>The failure that started it: not the cancellation it caused in the other task.</summary>
    private static Exception? FirstRealFailure(params Task[] tasks)
    {
        var failures = tasks.Where(t => t.IsFaulted).SelectMany(t => t.Exception!.InnerExceptions).ToList();
        return failures.FirstOrDefault(e => e is not OperationCanceledException) ?? failures.FirstOrDefault();
    }
}
