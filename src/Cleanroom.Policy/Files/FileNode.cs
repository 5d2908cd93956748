namespace Cleanroom.Policy.Files;

/// <summary>What a directory entry is, and which file it is (device and inode), as <c>statx</c> reports it.</summary>
internal sealed record FileNode(FileNodeKind Kind, uint DeviceMajor, uint DeviceMinor, ulong Inode, long Size)
{
    /// <summary>The same file as <paramref name="other"/>: nothing was swapped in between two looks.</summary>
    public bool IsSameFileAs(FileNode other) =>
        DeviceMajor == other.DeviceMajor && DeviceMinor == other.DeviceMinor && Inode == other.Inode;

    /// <summary>The kind encoded in the file type bits of a mode.</summary>
    public static FileNodeKind KindOf(uint mode) => (mode & 0xF000) switch
    {
        0x8000 => FileNodeKind.RegularFile,
        0x4000 => FileNodeKind.Directory,
        0xA000 => FileNodeKind.SymbolicLink,
        0x1000 => FileNodeKind.Fifo,
        0xC000 => FileNodeKind.Socket,
        0x2000 => FileNodeKind.CharacterDevice,
        0x6000 => FileNodeKind.BlockDevice,
        _ => FileNodeKind.Other,
    };
}
