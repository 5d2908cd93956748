using Cleanroom.Images.Layers;
using Cleanroom.Oci;

namespace Cleanroom.Images.Rootfs;

/// <summary>
/// Turns an image's layers into its ext4 root file system: apply every layer into a private staging directory,
/// add the mount points the guest needs, pack with mkfs.ext4 and rename into the cache. The staging directory is
/// always deleted, and the final file only appears once complete, so a failed or hostile image leaves nothing.
/// </summary>
public sealed class RootfsMaterializer(ImageManagerOptions options)
{
    public async Task<MaterializedRootfs> BuildAsync(Digest digest, IReadOnlyList<LayerSource> layers, Action<int>? layerApplied, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.StagingDirectory, OwnerOnly);
        Directory.CreateDirectory(options.RootfsDirectory);
        var staging = Path.Combine(options.StagingDirectory, digest.Hex[..16] + "-" + Guid.NewGuid().ToString("N")[..8]);
        var root = Path.Combine(staging, "root");

        // While unpacking, the tree holds the image's setuid binaries and device nodes as real host files: only root
        // may reach them. The image root itself keeps 0755, which is what mkfs copies into the guest's "/".
        Directory.CreateDirectory(staging, OwnerOnly);
        Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        try
        {
            var applier = new LayerApplier(root, options.Limits);
            for (var i = 0; i < layers.Count; i++)
            {
                var layer = layers[i];
                var blobPath = await layer.BlobPath.WaitAsync(cancellationToken);
                await Task.Run(
                    () =>
                    {
                        using var blob = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
                        applier.Apply(blob, layer.Compression, layer.Name, cancellationToken);
                    },
                    cancellationToken);
                layerApplied?.Invoke(i);
            }

            MountPoints.Ensure(root);
            var size = RootfsSizing.ForContent(applier.UnpackedBytes, applier.Entries);
            var target = options.RootfsPathFor(digest);
            await Ext4Builder.BuildAsync(root, target, size, RootfsSizing.InodesFor(applier.Entries, size), cancellationToken);
            return new MaterializedRootfs(target, applier.UnpackedBytes, applier.Entries, size);
        }
        finally
        {
            DeleteTree(staging);
        }
    }

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Removes a staging tree through libc (<see cref="Layers.LibC.RemoveTree"/>): a layer may name files with bytes that
    /// are not UTF-8 (the <c>CLEANROOM.rawpath</c> record), which .NET's recursive delete cannot name. Directories may
    /// have been made read-only by the image; deletion still works as root.
    /// </summary>
    internal static void DeleteTree(string path)
    {
        try
        {
            Layers.LibC.RemoveTree(path);
        }
        catch (IOException)
        {
            // A second attempt covers files the first pass raced with (e.g. a still-closing writer).
            Thread.Sleep(50);
            Layers.LibC.RemoveTree(path);
        }
    }
}
