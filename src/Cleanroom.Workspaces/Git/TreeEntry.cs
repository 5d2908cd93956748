namespace Cleanroom.Workspaces.Git;

/// <summary>
/// One entry of a commit's tree as <c>git ls-tree -r -t -l</c> lists it, kept compact (raw object id, path as bytes:
/// a path need not be UTF-8) because a listing is held whole while its image is written.
/// </summary>
/// <param name="Mode">Git's mode, parsed from octal: 040000, 0100644, 0100755, 0120000 or 0160000.</param>
/// <param name="ObjectId">The object id's raw bytes (20 for SHA-1, 32 for SHA-256).</param>
/// <param name="Size">The blob's size; 0 for trees and gitlinks.</param>
/// <param name="Path">The path from the tree's root, as git stores it.</param>
internal readonly record struct TreeEntry(int Mode, byte[] ObjectId, long Size, byte[] Path)
{
    /// <summary>A directory.</summary>
    public const int TreeMode = 0x4000;

    /// <summary>A regular file.</summary>
    public const int RegularMode = 0x81A4;

    /// <summary>An executable file.</summary>
    public const int ExecutableMode = 0x81ED;

    /// <summary>A symbolic link (the blob is its target).</summary>
    public const int SymlinkMode = 0xA000;

    /// <summary>A submodule's commit.</summary>
    public const int GitlinkMode = 0xE000;

    /// <summary>True for entries whose content is a blob (files and symlinks).</summary>
    public bool IsBlob => Mode is RegularMode or ExecutableMode or SymlinkMode;

    /// <summary>The object id in lower-case hex, as git takes it.</summary>
    public string ObjectIdHex => Convert.ToHexStringLower(ObjectId);
}
