using System.Formats.Tar;
using Cleanroom.Escaping;
using Cleanroom.Images.Layers;
using Cleanroom.Oci;

namespace Cleanroom.Workspaces.Transfer;

/// <summary>
/// Unpacks a hostile tar from a sandbox into a fresh private directory on the host with the image-layer unpacker's
/// confinement (<see cref="ImageTree"/>, <see cref="EntryApplier"/>, <see cref="UnpackBudget"/>), under stricter
/// <see cref="EntryRules"/>: a path through any symlink (even one the archive made) is refused rather than followed,
/// device nodes and FIFOs are refused, setuid/setgid/sticky bits and extended attributes are dropped, and everything
/// gets the given owner. Hard links may only name entries already unpacked, so they stay inside the archive.
/// </summary>
/// <remarks>
/// Whiteouts are recorded in <see cref="Whiteouts"/> (changes archives), or refused (plain archives, where a name
/// that looks like one would otherwise silently vanish). Changes archives may not name <c>.git</c> at any depth:
/// nothing of a repository's git directory is ever written from a sandbox.
/// </remarks>
internal sealed class ConfinedUnpacker
{
    private readonly TransferLimits _limits;
    private readonly bool _changes;
    private readonly ImageTree _tree;
    private readonly UnpackBudget _budget;
    private readonly EntryApplier _entries;
    private readonly List<UnpackedWhiteout> _whiteouts = [];

    /// <param name="root">An existing empty directory only this process writes to.</param>
    /// <param name="owner">The owner every unpacked node gets (the user the files are for).</param>
    /// <param name="changes">True for a changes archive (whiteouts recorded, <c>.git</c> refused); false for a plain one.</param>
    public ConfinedUnpacker(string root, TransferLimits limits, (int Uid, int Gid) owner, bool changes)
    {
        _limits = limits;
        _changes = changes;
        var rules = new EntryRules
        {
            FollowSymlinks = false,
            AllowSpecialFiles = false,
            KeepSpecialModeBits = false,
            KeepExtendedAttributes = false,
            Owner = owner,
        };
        Owner = owner;
        _tree = new ImageTree(Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)), followSymlinks: false);
        _budget = new UnpackBudget(new LayerLimits { MaxEntries = limits.MaxEntries, MaxUnpackedBytes = limits.MaxBytes });
        _entries = new EntryApplier(_tree, _budget, rules);
    }

    /// <summary>The owner given to every node.</summary>
    public (int Uid, int Gid) Owner { get; }

    /// <summary>The whiteouts of a changes archive, in archive order.</summary>
    public IReadOnlyList<UnpackedWhiteout> Whiteouts => _whiteouts;

    /// <summary>Regular-file bytes unpacked.</summary>
    public long Bytes => _budget.Bytes;

    /// <summary>Unpacks <paramref name="tar"/> (uncompressed); throws <see cref="WorkspaceException"/> (RejectedArchive) when it breaks a rule.</summary>
    /// <param name="archiveName">How messages name the archive ("the sandbox's changes").</param>
    public void Unpack(Stream tar, string archiveName, CancellationToken ct)
    {
        var log = new LayerWriteLog();
        var generationAtStart = _tree.Generation;
        string? entryName = null;
        try
        {
            using var reader = new LayerTarReader(tar, LayerCompression.None);
            while (reader.Next() is { } entry)
            {
                ct.ThrowIfCancellationRequested();
                entryName = NameForMessages(entry);
                _budget.CountEntry();
                if (!Screen(entry, ct))
                {
                    _entries.Apply(entry, log, ct);
                }
            }

            _tree.SetDirectoryTimes(log, _tree.Generation == generationAtStart);
            GiveDirectoriesToOwner(_tree.Root);
        }
        catch (EntryRejectedException ex) when (ex.AboutLayer)
        {
            var limit = _budget.Entries >= _limits.MaxEntries
                ? $"more than {_limits.MaxEntries:N0} entries (TransferLimits.MaxEntries)"
                : $"more than {_limits.MaxBytes:N0} bytes of files (TransferLimits.MaxBytes)";
            throw Rejected($"{archiveName} was refused: it holds {limit}", ex);
        }
        catch (EntryRejectedException ex)
        {
            throw Rejected($"{archiveName} was refused: entry {UntrustedText.Quote(entryName ?? "")} {ex.Message}", ex);
        }
        catch (ArchiveCorruptException ex)
        {
            var near = entryName is null ? "" : $" (near entry {UntrustedText.Quote(entryName)})";
            var what = ex.IsUnsupportedFeature ? "uses a tar feature that is not supported" : "is truncated or corrupt";
            throw Rejected($"{archiveName} {what}{near}: {UntrustedText.Escape(ex.Message)}", ex);
        }
    }

    /// <summary>
    /// Parents the archive did not list were made by the tree walk as this process's; they get the owner too, so a
    /// daemon running as root never leaves root-owned directories in a user's tree. Only real directories are
    /// descended (lstat), and times are kept (chown does not change mtime).
    /// </summary>
    private void GiveDirectoriesToOwner(string directory)
    {
        foreach (var name in LibC.ListDirectory(directory))
        {
            var child = string.Concat(directory, "/", name);
            if (LibC.GetKind(child) == NodeKind.Directory)
            {
                LibC.ChangeOwner(child, Owner.Uid, Owner.Gid);
                GiveDirectoriesToOwner(child);
            }
        }
    }

    /// <summary>The entry's name for messages: the exact one when its vendor record is valid, else the decoded one.</summary>
    private static string NameForMessages(TarEntry entry)
    {
        try
        {
            return PaxRawNames.NameOf(entry);
        }
        catch (InvalidDataException)
        {
            return entry.Name;
        }
    }

    private static WorkspaceException Rejected(string message, Exception inner) =>
        new(WorkspaceErrorKind.RejectedArchive, message, inner);

    /// <summary>
    /// The checks the layer rules do not make, before the entry touches the disk. Returns true when the entry was
    /// fully handled here (a whiteout recorded, a global header skipped).
    /// </summary>
    private bool Screen(TarEntry entry, CancellationToken ct)
    {
        if (entry.EntryType == TarEntryType.GlobalExtendedAttributes)
        {
            return false;
        }

        var path = LayerPath.Normalize(EntryNames.PathOf(entry), "a path");
        CheckPath(path, exact: EntryNames.HasRawPath(entry));
        if (entry.EntryType == TarEntryType.HardLink)
        {
            CheckPath(LayerPath.Normalize(EntryNames.LinkOf(entry), "a hard link target"), exact: EntryNames.HasRawLinkPath(entry));
        }

        if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile && entry.Length > _limits.MaxFileBytes)
        {
            throw new EntryRejectedException($"is a file of {entry.Length:N0} bytes, more than the {_limits.MaxFileBytes:N0} one file may have (TransferLimits.MaxFileBytes)");
        }

        var whiteout = Whiteout.Classify(path);
        if (whiteout.Kind == WhiteoutKind.None)
        {
            return false;
        }

        if (!_changes)
        {
            throw new EntryRejectedException("has a name beginning with '.wh.', which is reserved for whiteouts");
        }

        _entries.SkipData(entry, ct);
        if (whiteout.Kind != WhiteoutKind.Ignored)
        {
            CheckPath(whiteout.Target, exact: true);
            _whiteouts.Add(new UnpackedWhiteout(whiteout.Target, whiteout.Kind == WhiteoutKind.Opaque));
        }

        return true;
    }

    /// <param name="exact">
    /// True when the name came from a <see cref="PaxRawNames"/> vendor record (or was already checked): its bytes are
    /// exact, so a U+FFFD in it is a real character.
    /// </param>
    private void CheckPath(string path, bool exact)
    {
        // TarReader decodes names as UTF-8 and replaces bytes that are not; without the vendor record with the exact
        // bytes, such a name no longer says which file it meant.
        if (!exact && path.Contains('\uFFFD', StringComparison.Ordinal))
        {
            throw new EntryRejectedException($"has a name that is not valid UTF-8 and no {PaxRawNames.PathKey} record with its bytes");
        }

        var depth = 0;
        foreach (var range in path.AsSpan().Split('/'))
        {
            if (_changes && path.AsSpan(range).Equals(".git", StringComparison.OrdinalIgnoreCase))
            {
                throw new EntryRejectedException("names a .git directory, which is never written from a sandbox");
            }

            depth++;
        }

        if (depth > _limits.MaxPathDepth)
        {
            throw new EntryRejectedException($"has a path deeper than {_limits.MaxPathDepth} components (TransferLimits.MaxPathDepth)");
        }
    }
}
