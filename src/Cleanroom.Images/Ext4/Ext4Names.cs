using System.Text;

namespace Cleanroom.Images.Ext4;

/// <summary>Validation of the untrusted names, modes and link targets a caller hands the writer.</summary>
internal static class Ext4Names
{
    public const int MaxNameBytes = 255;
    public const int MaxSymlinkBytes = Ext4Layout.BlockSize - 1;

    /// <summary>
    /// Checks a directory entry name (raw bytes, any encoding) and returns it as a Latin-1 string: a lossless one-char-
    /// per-byte key for duplicate detection that converts back to the same bytes.
    /// </summary>
    public static string Validate(ReadOnlySpan<byte> name, string parameter)
    {
        if (name.Length is 0 or > MaxNameBytes)
        {
            throw new ArgumentException($"A name must be 1 to {MaxNameBytes} bytes; this one is {name.Length}.", parameter);
        }

        if (name.IndexOfAny((byte)'/', (byte)0) >= 0)
        {
            throw new ArgumentException($"The name '{Describe(name)}' contains '/' or NUL.", parameter);
        }

        if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
        {
            throw new ArgumentException($"'{Describe(name)}' cannot be added as a name.", parameter);
        }

        return Encoding.Latin1.GetString(name);
    }

    /// <summary>Checks that <paramref name="metadata"/> carries permission bits only.</summary>
    public static void Validate(Ext4Metadata metadata, string parameter)
    {
        if ((metadata.Mode & ~0xFFFu) != 0)
        {
            throw new ArgumentException($"Mode 0{Convert.ToString(metadata.Mode, 8)} has bits outside 07777 (the file type is implied).", parameter);
        }
    }

    /// <summary>Checks a symbolic link target: 1..4095 bytes and no NUL (the kernel and e2fsck read it as a C string).</summary>
    public static void ValidateTarget(ReadOnlySpan<byte> target, string parameter)
    {
        if (target.Length is 0 or > MaxSymlinkBytes)
        {
            throw new ArgumentException($"A symbolic link target must be 1 to {MaxSymlinkBytes} bytes; this one is {target.Length}.", parameter);
        }

        if (target.IndexOf((byte)0) >= 0)
        {
            throw new ArgumentException("A symbolic link target cannot contain NUL.", parameter);
        }
    }

    /// <summary>A name for messages: printable ASCII kept, other bytes as \xNN, truncated after 64 bytes.</summary>
    public static string Describe(ReadOnlySpan<byte> name)
    {
        var text = new StringBuilder();
        foreach (var b in name[..Math.Min(name.Length, 64)])
        {
            text.Append(b is >= 0x20 and < 0x7F ? (char)b : $"\\x{b:x2}");
        }

        return name.Length > 64 ? text.Append("...").ToString() : text.ToString();
    }
}
