using System.Buffers.Binary;
using System.Security.Cryptography;
using Cleanroom.Workspaces.Git;

namespace Cleanroom.Workspaces.Build;

/// <summary>
/// Writes a git index (version 2) for a commit's tree without a checkout: every file, symlink and gitlink with the
/// stat data the image gives it (one mtime for all, the size), so that with <c>core.checkStat = minimal</c> (whole-second
/// mtime and size only) <c>git status</c> in the guest finds every file clean without reading one.
/// </summary>
internal static class GitIndexFile
{
    private const int StatBytes = 40;

    /// <summary>
    /// Writes the index of <paramref name="listing"/> (an <c>ls-tree -r -t</c> listing: git's order, which for the
    /// files alone is the index's byte order) to <paramref name="path"/>.
    /// </summary>
    /// <exception cref="WorkspaceException">The listing is not in the index's order (git printed something unexpected).</exception>
    /// <param name="path">The index file to create.</param>
    /// <param name="listing">The tree's entries.</param>
    /// <param name="hashBytes">The repository's object id length: 20 (SHA-1) or 32 (SHA-256); the trailer uses the same hash.</param>
    /// <param name="mtimeSeconds">The mtime every entry records.</param>
    /// <param name="ct">Cancels the writing.</param>
    public static void Write(string path, IReadOnlyList<TreeEntry> listing, int hashBytes, uint mtimeSeconds, CancellationToken ct)
    {
        var entries = listing.Where(e => e.Mode != TreeEntry.TreeMode).ToList();
        using var hash = IncrementalHash.CreateHash(hashBytes == 32 ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA1);
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: false);

        var header = new byte[12];
        "DIRC"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), (uint)entries.Count);
        Write(file, hash, header);

        var buffer = new byte[StatBytes + 32 + 2 + 4096 + 8];
        byte[]? previous = null;
        foreach (var entry in entries)
        {
            ct.ThrowIfCancellationRequested();
            if (entry.ObjectId.Length != hashBytes || entry.Path.Length == 0
                || (previous is not null && entry.Path.AsSpan().SequenceCompareTo(previous) <= 0))
            {
                throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, "`git ls-tree` listed the tree out of git's order or with mixed object formats.");
            }

            previous = entry.Path;
            var length = StatBytes + hashBytes + 2 + entry.Path.Length;
            var padded = (length + 8) & ~7;
            if (padded > buffer.Length)
            {
                buffer = new byte[padded];
            }

            var span = buffer.AsSpan(0, padded);
            span.Clear();
            // ctime and mtime (seconds, nanoseconds), dev, ino, mode, uid, gid, size: checkStat=minimal reads mtime's
            // seconds and the size; trustCtime=false makes git ignore the ctime.
            BinaryPrimitives.WriteUInt32BigEndian(span, mtimeSeconds);
            BinaryPrimitives.WriteUInt32BigEndian(span[8..], mtimeSeconds);
            BinaryPrimitives.WriteUInt32BigEndian(span[24..], (uint)entry.Mode);
            BinaryPrimitives.WriteUInt32BigEndian(span[36..], (uint)entry.Size);
            entry.ObjectId.CopyTo(span[StatBytes..]);
            BinaryPrimitives.WriteUInt16BigEndian(span[(StatBytes + hashBytes)..], (ushort)Math.Min(entry.Path.Length, 0xFFF));
            entry.Path.CopyTo(span[(StatBytes + hashBytes + 2)..]);
            Write(file, hash, span);
        }

        file.Write(hash.GetHashAndReset());
    }

    private static void Write(FileStream file, IncrementalHash hash, ReadOnlySpan<byte> bytes)
    {
        hash.AppendData(bytes);
        file.Write(bytes);
    }
}
