namespace Cleanroom.GuestAgent.Tools;

/// <summary>What an lstat found (S_IFMT).</summary>
internal enum FileType
{
    Unknown,
    Regular,
    Directory,
    Symlink,
    CharacterDevice,
    BlockDevice,
    Fifo,
    Socket,
}
