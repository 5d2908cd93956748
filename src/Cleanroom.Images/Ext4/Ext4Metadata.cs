namespace Cleanroom.Images.Ext4;

/// <summary>Ownership, permissions and modification time of one inode written by <see cref="Ext4ImageWriter"/>.</summary>
/// <param name="Mode">Permission bits only (0..07777, including setuid, setgid and sticky); the file type is implied.</param>
/// <param name="Uid">Owner; the full 32 bits are stored.</param>
/// <param name="Gid">Group; the full 32 bits are stored.</param>
/// <param name="MtimeSeconds">Unix seconds used for atime, ctime and mtime; clamped to 0..<see cref="uint.MaxValue"/>.</param>
public readonly record struct Ext4Metadata(uint Mode, uint Uid, uint Gid, long MtimeSeconds);
