namespace Cleanroom.Images.Layers;

/// <summary>What lstat says about a node (see <see cref="LibC.GetStatus"/>).</summary>
/// <param name="Kind">The node's type; <see cref="NodeKind.Missing"/> when there is none.</param>
/// <param name="Mode">The permission bits with setuid, setgid and sticky (07777).</param>
/// <param name="Size">Bytes of a regular file (a symlink's target length; 0 when missing).</param>
/// <param name="ModificationTime">The node's mtime.</param>
/// <param name="Uid">The owning user.</param>
/// <param name="Gid">The owning group.</param>
internal readonly record struct NodeStatus(NodeKind Kind, uint Mode, long Size, DateTimeOffset ModificationTime, int Uid, int Gid);
