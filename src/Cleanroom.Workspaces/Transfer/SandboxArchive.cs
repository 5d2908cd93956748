using Cleanroom.Images.Layers;

namespace Cleanroom.Workspaces.Transfer;

/// <summary>
/// Extracts a hostile plain tar from a sandbox (<c>cleanroom cp ID:SRC DST</c>) into a new host directory, atomically:
/// into a temporary directory next to it, then one rename. Modes are kept without setuid, setgid and sticky bits,
/// times are kept, symlinks are made as they are but never followed (not even ones the archive made), and nothing
/// is written outside the new directory. Which path the archive lands at is the caller's choice (docker cp semantics).
/// </summary>
public static class SandboxArchive
{
    /// <summary>Extracts <paramref name="tar"/> so that its root becomes <paramref name="destination"/>.</summary>
    /// <param name="destination">A path that must not exist yet, in a directory that does.</param>
    /// <param name="owner">Owner of every extracted node; by default the owner of <paramref name="destination"/>'s parent.</param>
    /// <returns>Regular-file bytes extracted.</returns>
    /// <exception cref="WorkspaceException">RejectedArchive when the archive breaks a rule or a limit; nothing is left behind.</exception>
    public static long Extract(Stream tar, string destination, TransferLimits limits, (int Uid, int Gid)? owner = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(tar);
        ArgumentNullException.ThrowIfNull(limits);
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destination));
        var parent = Path.GetDirectoryName(target);
        if (parent is null || LibC.GetKind(parent) != NodeKind.Directory)
        {
            throw new WorkspaceException(WorkspaceErrorKind.CopyOutFailed, $"'{destination}': its parent directory does not exist (or is a symlink).");
        }

        if (LibC.GetKind(target) != NodeKind.Missing)
        {
            throw new WorkspaceException(WorkspaceErrorKind.CopyOutFailed, $"'{destination}' already exists.");
        }

        var temp = Path.Combine(parent, $".{Path.GetFileName(target)}.cleanroom-{Guid.NewGuid():N}");
        LibC.MakeDirectory(temp, 0x1ED); // 0755 unless the archive's "./" entry says otherwise
        try
        {
            var unpacker = new ConfinedUnpacker(temp, limits, owner ?? LibC.GetOwner(parent), changes: false);
            unpacker.Unpack(tar, "the archive from the sandbox", ct);
            LibC.ChangeOwner(temp, unpacker.Owner.Uid, unpacker.Owner.Gid);
            var errno = LibC.TryRename(temp, target, replace: false);
            if (errno != 0)
            {
                throw new WorkspaceException(WorkspaceErrorKind.CopyOutFailed, $"Could not move the extracted archive to '{destination}': {LibC.Describe(errno)}.");
            }

            return unpacker.Bytes;
        }
        catch
        {
            // libc, not Directory.Delete: names in the archive need not be UTF-8.
            LibC.RemoveTree(temp);

            throw;
        }
    }
}
