namespace Cleanroom.Images.Ext4;

/// <summary>What an <see cref="Ext4ImageFullException"/> ran out of.</summary>
public enum Ext4Resource
{
    /// <summary>Data blocks (the capacity).</summary>
    Blocks,

    /// <summary>Inodes (the inode count).</summary>
    Inodes,
}

/// <summary>
/// An ext4 image has no room left for what was added: <see cref="Resource"/> says whether blocks or inodes ran out, the
/// message gives the sizes. The image being written is useless after this; disposing the writer deletes it.
/// </summary>
public sealed class Ext4ImageFullException : IOException
{
    /// <summary>Creates the exception for <paramref name="resource"/> with a message that gives the sizes.</summary>
    public Ext4ImageFullException(Ext4Resource resource, string message)
        : base(message)
    {
        Resource = resource;
    }

    /// <summary>Whether blocks or inodes ran out.</summary>
    public Ext4Resource Resource { get; }
}
