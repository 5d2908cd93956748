using Cleanroom.Escaping;
using Cleanroom.Oci;

namespace Cleanroom.Images.Layers;

/// <summary>
/// Unpacks an image's layers, bottom first, into a directory, following the OCI changeset rules (whiteouts, opaque
/// directories, replacement) and preserving owners, modes, device nodes, links, times and user xattrs. Layers are
/// hostile input: nothing is ever created, changed or followed outside the root (see <see cref="ImageTree"/>), and
/// the sizes are bounded by <see cref="LayerLimits"/> while the bytes stream, not after.
/// </summary>
/// <remarks>
/// There is no rollback: a rejected layer leaves the root half-applied, and the caller discards the whole directory.
/// One applier serves one image; it is not thread-safe.
/// </remarks>
public sealed class LayerApplier
{
    private readonly ImageTree _tree;
    private readonly UnpackBudget _budget;
    private readonly EntryApplier _entries;

    /// <param name="rootDirectory">An existing, empty directory that becomes the image's "/".</param>
    public LayerApplier(string rootDirectory, LayerLimits limits)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootDirectory);
        ArgumentNullException.ThrowIfNull(limits);
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootDirectory));
        if (root == "/" || !Directory.Exists(root))
        {
            throw new ArgumentException($"'{rootDirectory}' is not a directory an image can be unpacked into", nameof(rootDirectory));
        }

        _tree = new ImageTree(root);
        _budget = new UnpackBudget(limits);
        _entries = new EntryApplier(_tree, _budget, EntryRules.ImageLayers);
    }

    /// <summary>Regular-file bytes written so far, over all layers applied.</summary>
    public long UnpackedBytes => _budget.Bytes;

    /// <summary>Tar entries read so far, over all layers applied.</summary>
    public long Entries => _budget.Entries;

    /// <summary>Applies one layer on top of those applied before.</summary>
    /// <param name="blob">The layer blob as stored (compressed), already verified against its digest.</param>
    /// <param name="layerName">How messages name the layer, e.g. its digest.</param>
    /// <exception cref="LayerRejectedException">The layer is corrupt, too large, or breaks the rules for layers.</exception>
    /// <exception cref="OperationCanceledException">Cancellation was requested (checked per entry and per MiB copied).</exception>
    public void Apply(Stream blob, LayerCompression compression, string layerName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentException.ThrowIfNullOrEmpty(layerName);
        cancellationToken.ThrowIfCancellationRequested();

        var log = new LayerWriteLog();
        var generationAtStart = _tree.Generation;
        string? entryName = null;
        try
        {
            using var reader = new LayerTarReader(blob, compression);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var entry = reader.Next();
                if (entry is null)
                {
                    break;
                }

                entryName = entry.Name;
                _budget.CountEntry();
                _entries.Apply(entry, log, cancellationToken);
            }

            _tree.SetDirectoryTimes(log, _tree.Generation == generationAtStart);
        }
        catch (EntryRejectedException ex)
        {
            var entry = entryName is null ? "" : "; stopped at entry " + UntrustedText.Quote(entryName);
            var message = ex.AboutLayer
                ? $"layer {layerName} {ex.Message}{entry}"
                : $"layer {layerName}: entry {UntrustedText.Quote(entryName ?? "")} {ex.Message}";
            throw new LayerRejectedException(layerName, entryName, message, ex);
        }
        catch (ArchiveCorruptException ex)
        {
            var near = entryName is null ? "" : $" (near entry {UntrustedText.Quote(entryName)})";
            var what = ex.IsUnsupportedFeature ? "uses a tar feature that is not supported" : "is truncated or corrupt";
            throw new LayerRejectedException(layerName, entryName, $"layer {layerName} {what}{near}: {UntrustedText.Escape(ex.Message)}", ex);
        }
    }
}
