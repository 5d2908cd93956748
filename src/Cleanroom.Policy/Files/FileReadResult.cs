namespace Cleanroom.Policy.Files;

/// <summary>The outcome of reading a file that may not be trusted: its bytes, or why it was not read.</summary>
internal abstract record FileReadResult
{
    private FileReadResult()
    {
    }

    /// <summary>The whole file, at most the size limit.</summary>
    public sealed record Read(byte[] Bytes) : FileReadResult;

    /// <summary>The path component at <paramref name="Index"/> is not what it must be (a directory, then a regular file).</summary>
    public sealed record Refused(int Index, FileNodeKind Kind) : FileReadResult;

    /// <summary>The file is larger than the limit; nothing beyond the limit was read.</summary>
    public sealed record TooLarge(long Size) : FileReadResult;

    /// <summary>The component at <paramref name="Index"/> (-1: the base directory) could not be opened or read.</summary>
    public sealed record Failed(int Index, string Reason) : FileReadResult;
}
