using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Attaches an idmapped copy of an existing mount elsewhere: open_tree(OPEN_TREE_CLONE) makes a detached copy (only
/// a detached mount may get an idmapping), mount_setattr(MOUNT_ATTR_IDMAP) gives it the user namespace's mapping,
/// move_mount attaches it. The copy keeps the original's flags (read-only, nodev, nosuid). Nothing is changed on
/// disk: the mapping is applied on every access, so it costs nothing per file.
/// </summary>
internal static unsafe class IdMappedMount
{
    /// <summary>Throws <see cref="InitException"/> saying which step the kernel refused.</summary>
    public static void Attach(string source, string target, int userNamespaceFd)
    {
        var tree = (int)LibC.OpenTreeSyscall(LibC.SYS_open_tree, LibC.AT_FDCWD, source, LibC.OPEN_TREE_CLONE | LibC.OPEN_TREE_CLOEXEC);
        if (tree < 0)
        {
            throw new InitException($"open_tree({source}) failed: {Errno.DescribeLast()}");
        }

        try
        {
            var attributes = new LibC.MountAttr { AttrSet = LibC.MOUNT_ATTR_IDMAP, UserNamespaceFd = (ulong)userNamespaceFd };
            if (LibC.MountSetAttrSyscall(LibC.SYS_mount_setattr, tree, "", LibC.AT_EMPTY_PATH, &attributes, (nuint)sizeof(LibC.MountAttr)) != 0)
            {
                throw new InitException($"mount_setattr(MOUNT_ATTR_IDMAP) on {source} failed: {Errno.DescribeLast()}");
            }

            Directory.CreateDirectory(target);
            if (LibC.MoveMountSyscall(LibC.SYS_move_mount, tree, "", LibC.AT_FDCWD, target, LibC.MOVE_MOUNT_F_EMPTY_PATH) != 0)
            {
                throw new InitException($"move_mount to {target} failed: {Errno.DescribeLast()}");
            }
        }
        finally
        {
            // Attached, the mount lives on without the descriptor; still detached, closing it unmounts the copy.
            LibC.Close(tree);
        }
    }
}
