using Cleanroom.GuestAgent.Exec;
using Cleanroom.GuestAgent.Native;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Mounts the repository workspace the host attached as a read-only disk (its ext4 image of one commit, shared by every
/// sandbox on that commit) under a writable overlay whose changes live on the sandbox's own root disk. The disk is
/// found by its serial, not its name: virtio-mmio does not promise the order devices appear in.
/// </summary>
internal static class WorkspaceMount
{
    /// <summary>The serial the host gives the workspace disk (QEMU <c>serial=</c>).</summary>
    public const string DiskSerial = "cr-workspace";

    private const string Lower = "/run/cleanroom/workspace.lower";
    private const string Changes = "/var/lib/cleanroom/workspace";

    /// <summary>
    /// Mounts the workspace at <paramref name="path"/>, owned by <paramref name="owner"/> (a validated
    /// <c>USER[:GROUP]</c>) when given and not root; throws <see cref="InitException"/> saying what failed. An owner
    /// that cannot be resolved or mapped is only a warning: the workspace is then root's, as without one.
    /// </summary>
    public static void Mount(string path, string? owner, string sysBlock = "/sys/block")
    {
        var device = FindBySerial(sysBlock, DiskSerial)
            ?? throw new InitException($"workspace: the host asked for {path} but attached no disk with serial {DiskSerial}");
        var identity = ResolveOwner(owner);
        var mapped = MountLayers(device, path, identity, new Layout(Lower, Changes), ChildReaper.Shared);
        GitSafeDirectory.Allow(path);
        AgentLog.Info($"workspace: {device} at {path} (changes on the root disk, owner {(mapped ? $"{identity!.Uid}:{identity.Gid}" : "root")})");
    }

    /// <summary>
    /// Mounts the ext4 <paramref name="device"/> read-only, idmapped so that its files (all root's) appear as
    /// <paramref name="owner"/>'s when one is given, and the overlay on top at <paramref name="path"/>. Returns whether
    /// the idmapping is in place; false with a warning when the kernel refused it (the workspace is then root's).
    /// </summary>
    internal static bool MountLayers(string device, string path, UserIdentity? owner, Layout layout, ChildReaper reaper)
    {
        // nodev, nosuid: the image holds whatever the repository holds, and a repository is not trusted to carry devices
        // or set-id programs into the guest's root.
        Mounts.Mount(device, layout.Lower, "ext4", LibC.MS_RDONLY | LibC.MS_NODEV | LibC.MS_NOSUID);

        // The idmapped copy goes on top of the plain mount, at the same path: the lower layer is always at one place
        // (workspace-changes reads it there), and no step leaves it unmounted if the kernel refuses the next one. The
        // plain mount underneath shares the copy's superblock, so it costs nothing.
        var mapped = owner is { Uid: not 0 } && TryIdMap(layout.Lower, owner, reaper);

        var upper = layout.Changes + "/upper";
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(layout.Changes + "/work");
        if (mapped && LibC.LChown(upper, owner!.Uid, owner.Gid) != 0)
        {
            // The overlay's root takes its owner from the upper directory; everything below is still the owner's.
            AgentLog.Warn($"workspace: chown {upper} failed: {Errno.DescribeLast()}; the workspace's top directory stays root's");
        }

        var data = $"lowerdir={layout.Lower},upperdir={upper},workdir={layout.Changes}/work";
        Directory.CreateDirectory(path);
        if (mapped && LibC.Mount("overlay", path, "overlay", LibC.MS_NODEV | LibC.MS_NOSUID, data) == 0)
        {
            return true;
        }

        if (mapped)
        {
            // Linux 5.12 to 5.18 idmap ext4 but refuse an overlay on an idmapped layer: take the copy off (umount takes
            // the top mount at the path) and make the workspace root's, as on a kernel without idmapped mounts.
            AgentLog.Warn($"workspace: the overlay refused the idmapped layer ({Errno.DescribeLast()}); the workspace stays root's");
            if (LibC.Umount2(layout.Lower, LibC.MNT_DETACH) != 0 || LibC.LChown(upper, 0, 0) != 0)
            {
                throw new InitException($"workspace: undoing the idmapped layer failed: {Errno.DescribeLast()}");
            }
        }

        Mounts.Mount("overlay", path, "overlay", LibC.MS_NODEV | LibC.MS_NOSUID, data);
        return false;
    }

    private static UserIdentity? ResolveOwner(string? owner)
    {
        if (owner is null)
        {
            return null;
        }

        var identity = WorkspaceOwner.Resolve(owner, "/etc/passwd", "/etc/group", out var error);
        if (identity is null)
        {
            AgentLog.Warn($"workspace: owner {owner}: {error}; the workspace stays root's");
        }

        return identity;
    }

    private static bool TryIdMap(string lower, UserIdentity owner, ChildReaper reaper)
    {
        var userNamespace = -1;
        try
        {
            userNamespace = UserNamespaceForIdMap.Create(owner.Uid, owner.Gid, reaper);
            IdMappedMount.Attach(lower, lower, userNamespace);
            return true;
        }
        catch (Exception ex) when (ex is InitException or IOException or UnauthorizedAccessException)
        {
            // An older kernel (idmapped ext4 needs 5.12, overlay on an idmapped layer 5.19) or a locked-down one: the
            // workspace still works, only not writable for a non-root user.
            AgentLog.Warn($"workspace: cannot map its files to {owner.Uid}:{owner.Gid} ({ex.Message}); the workspace stays root's");
            return false;
        }
        finally
        {
            FileDescriptors.CloseQuietly(userNamespace);
        }
    }

    /// <summary>Where the layers go: the image (the overlay's lower layer) and the overlay's own directories.</summary>
    internal sealed record Layout(string Lower, string Changes);

    /// <summary>The <c>/dev</c> path of the block device whose serial is <paramref name="serial"/>, or null.</summary>
    internal static string? FindBySerial(string sysBlock, string serial)
    {
        if (!Directory.Exists(sysBlock))
        {
            return null;
        }

        foreach (var block in Directory.GetDirectories(sysBlock).Order(StringComparer.Ordinal))
        {
            var file = Path.Combine(block, "serial");
            if (File.Exists(file) && File.ReadAllText(file).Trim() == serial)
            {
                return "/dev/" + Path.GetFileName(block);
            }
        }

        return null;
    }
}
