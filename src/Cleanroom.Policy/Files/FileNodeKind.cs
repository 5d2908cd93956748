namespace Cleanroom.Policy.Files;

/// <summary>The kinds of directory entry a policy path may turn out to be; only a regular file is read.</summary>
internal enum FileNodeKind
{
    RegularFile,
    Directory,
    SymbolicLink,
    Fifo,
    Socket,
    CharacterDevice,
    BlockDevice,
    Other,
}

/// <summary>How each kind is named in an error message.</summary>
internal static class FileNodeKindNames
{
    public static string Describe(this FileNodeKind kind) => kind switch
    {
        FileNodeKind.RegularFile => "a regular file",
        FileNodeKind.Directory => "a directory",
        FileNodeKind.SymbolicLink => "a symbolic link",
        FileNodeKind.Fifo => "a named pipe (FIFO)",
        FileNodeKind.Socket => "a socket",
        FileNodeKind.CharacterDevice => "a character device",
        FileNodeKind.BlockDevice => "a block device",
        _ => "an unknown kind of file",
    };
}
