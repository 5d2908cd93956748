using System.Formats.Tar;
using Cleanroom.Escaping;
using Cleanroom.Oci;

namespace Cleanroom.Images.Layers;

/// <summary>
/// Applies one tar entry to the image tree with the OCI changeset rules: whiteouts delete, directories merge, and
/// anything else replaces what was at its path (removed first, so nothing is ever written through an old symlink).
/// </summary>
/// <param name="rules">What is kept of each entry; <paramref name="tree"/> must follow symlinks exactly when they say so.</param>
internal sealed class EntryApplier(ImageTree tree, UnpackBudget budget, EntryRules rules)
{
    private const uint ImplicitFileMode = 0x180; // 0600 until the entry's own mode is set

    private readonly RegularFileWriter _files = new(budget);

    public void Apply(TarEntry entry, LayerWriteLog log, CancellationToken cancellationToken)
    {
        // A PAX global header only carries defaults that TarReader has already merged into the entries after it.
        if (entry.EntryType == TarEntryType.GlobalExtendedAttributes)
        {
            SkipData(entry, cancellationToken);
            return;
        }

        var path = LayerPath.Normalize(EntryNames.PathOf(entry), "a path");
        var whiteout = Whiteout.Classify(path);
        if (whiteout.Kind != WhiteoutKind.None)
        {
            SkipData(entry, cancellationToken);
        }

        switch (whiteout.Kind)
        {
            case WhiteoutKind.Ignored:
                return;
            case WhiteoutKind.Remove:
                if (tree.Resolve(whiteout.Target, createParents: false) is { } removed)
                {
                    tree.Remove(removed);
                }

                return;
            case WhiteoutKind.Opaque:
                ApplyOpaque(path, log);
                return;
        }

        if (path.Length == 0)
        {
            ApplyToRoot(entry, log);
            return;
        }

        switch (entry.EntryType)
        {
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                WriteFile(entry, path, log, cancellationToken);
                break;
            case TarEntryType.Directory:
                MakeDirectory(entry, path, log);
                break;
            case TarEntryType.SymbolicLink:
                MakeSymlink(entry, path, log);
                break;
            case TarEntryType.HardLink:
                MakeHardLink(entry, path, log);
                break;
            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                MakeNode(entry, path, log);
                break;
            default:
                throw new EntryRejectedException($"has tar type '{(char)entry.EntryType}' ({entry.EntryType}), which a layer may not contain");
        }
    }

    /// <summary>
    /// The marker's own path is resolved, not just its directory's: the directory is then a parent like any other,
    /// so a symlink in its place is followed inside the root (or refused), never trusted.
    /// </summary>
    private void ApplyOpaque(string markerPath, LayerWriteLog log)
    {
        if (tree.Resolve(markerPath, createParents: false) is { } marker)
        {
            var slash = marker.Relative.LastIndexOf('/');
            tree.HideLowerChildren(marker.ParentHost, slash < 0 ? "" : marker.Relative[..slash], log);
        }
    }

    /// <summary>The "./" entry: the root directory's own owner, mode and time. It cannot be replaced.</summary>
    private void ApplyToRoot(TarEntry entry, LayerWriteLog log)
    {
        if (entry.EntryType != TarEntryType.Directory)
        {
            throw new EntryRejectedException($"would replace the image root with a {entry.EntryType}");
        }

        // The root is made by the caller, so its path is trusted; only its metadata comes from the layer.
        EntryMetadata.Apply(tree.Root, entry, NodeKind.Directory, setTime: false, rules);
        log.DeferDirectoryTime("", entry.ModificationTime);
    }

    private void WriteFile(TarEntry entry, string path, LayerWriteLog log, CancellationToken cancellationToken)
    {
        budget.EnsureRoom(entry.Length);
        var target = Replace(path);
        // O_CREAT|O_EXCL fails on any existing node, a symlink included, so it never writes through one.
        using (var file = LibC.CreateNew(target.Host, ImplicitFileMode))
        {
            _files.Copy(file, entry.DataStream, entry.Length, cancellationToken);
            EntryMetadata.Apply(file, target.Host, entry, rules);
        }

        log.RecordWritten(target.Relative);
    }

    private void MakeDirectory(TarEntry entry, string path, LayerWriteLog log)
    {
        var target = tree.Resolve(path, createParents: true)!.Value;
        var existing = LibC.GetKind(target.Host);
        if (existing != NodeKind.Directory)
        {
            // An existing directory is kept (its lower-layer children stay visible); anything else makes way.
            tree.Remove(target);
            LibC.MakeDirectory(target.Host, EntryMetadata.ModeOf(entry, rules));
            log.MarkFreeOfLowerChildren(target.Relative);
        }

        EntryMetadata.Apply(target.Host, entry, NodeKind.Directory, setTime: false, rules);
        log.DeferDirectoryTime(target.Relative, entry.ModificationTime);
        log.RecordWritten(target.Relative);
    }

    private void MakeSymlink(TarEntry entry, string path, LayerWriteLog log)
    {
        // The target is stored verbatim: it is only ever followed inside the guest, or by ImageTree, which confines it.
        var linkTarget = EntryNames.LinkOf(entry);
        if (linkTarget.Length == 0 || linkTarget.Contains('\0', StringComparison.Ordinal) || EntryNames.ByteCount(linkTarget) >= LayerPath.MaxPathBytes)
        {
            throw new EntryRejectedException($"is a symlink with an invalid target {UntrustedText.Quote(linkTarget)}");
        }

        var target = Replace(path);
        LibC.Symlink(linkTarget, target.Host);
        EntryMetadata.Apply(target.Host, entry, NodeKind.Symlink, setTime: true, rules);
        log.RecordWritten(target.Relative);
    }

    /// <summary>
    /// A hard link names another path of the image, which must already exist and not be a directory. It is resolved
    /// like any path (so it cannot name a host file), and linked without following it if it is a symlink. The inode
    /// already has its metadata; a link entry's own header describes the same file.
    /// </summary>
    private void MakeHardLink(TarEntry entry, string path, LayerWriteLog log)
    {
        var linkName = EntryNames.LinkOf(entry);
        var existingPath = LayerPath.Normalize(linkName, "a hard link target");
        var existing = existingPath.Length == 0 ? new ResolvedPath(tree.Root, "", tree.Root) : tree.Resolve(existingPath, createParents: false);
        var existingKind = existing is { } found ? LibC.GetKind(found.Host) : NodeKind.Missing;
        if (existingKind == NodeKind.Missing)
        {
            throw new EntryRejectedException($"is a hard link to {UntrustedText.Quote(linkName)}, which does not exist in the image");
        }

        if (existingKind == NodeKind.Directory)
        {
            throw new EntryRejectedException($"is a hard link to {UntrustedText.Quote(linkName)}, which is a directory");
        }

        var existingHost = existing!.Value.Host;

        var target = tree.Resolve(path, createParents: true)!.Value;
        if (target.Host == existingHost)
        {
            return;
        }

        tree.Remove(target);
        var errno = LibC.TryLink(existingHost, target.Host);
        if (errno != 0)
        {
            // ENOENT: replacing the link's own path removed the target (a directory that held it); EMLINK: too many links.
            throw errno is LibC.ENOENT or LibC.EMLINK
                ? new EntryRejectedException($"is a hard link to {UntrustedText.Quote(linkName)}, which cannot be linked: {LibC.Describe(errno)}")
                : new IOException($"link '{target.Host}' to '{existingHost}' failed: {LibC.Describe(errno)}");
        }

        log.RecordWritten(target.Relative);
    }

    private void MakeNode(TarEntry entry, string path, LayerWriteLog log)
    {
        if (!rules.AllowSpecialFiles)
        {
            throw new EntryRejectedException($"is a {(entry.EntryType == TarEntryType.Fifo ? "FIFO" : "device node")}, which may not be unpacked here");
        }

        var type = entry.EntryType switch
        {
            TarEntryType.CharacterDevice => LibC.TypeCharacterDevice,
            TarEntryType.BlockDevice => LibC.TypeBlockDevice,
            _ => LibC.TypeFifo,
        };
        var device = 0UL;
        if (entry.EntryType != TarEntryType.Fifo)
        {
            if (entry is not PosixTarEntry posix || posix.DeviceMajor < 0 || posix.DeviceMinor < 0)
            {
                throw new EntryRejectedException("is a device without valid major and minor numbers");
            }

            device = LibC.MakeDevice((uint)posix.DeviceMajor, (uint)posix.DeviceMinor);
        }

        var target = Replace(path);
        LibC.MakeNode(target.Host, type | ImplicitFileMode, device);
        EntryMetadata.Apply(target.Host, entry, NodeKind.Special, setTime: true, rules);
        log.RecordWritten(target.Relative);
    }

    /// <summary>Reads past an entry's data within the budget (for entries that are not materialised).</summary>
    public void SkipData(TarEntry entry, CancellationToken cancellationToken)
    {
        if (entry.DataStream is { } data && entry.Length > 0)
        {
            _files.Discard(data, entry.Length, cancellationToken);
        }
    }

    /// <summary>Resolves <paramref name="path"/> and clears whatever is there, so a new node can be made in its place.</summary>
    private ResolvedPath Replace(string path)
    {
        var target = tree.Resolve(path, createParents: true)!.Value;
        tree.Remove(target);
        return target;
    }
}
