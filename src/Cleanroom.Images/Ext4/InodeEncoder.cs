using System.Buffers.Binary;

namespace Cleanroom.Images.Ext4;

/// <summary>Encodes one 256-byte ext4 inode (i_extra_isize 32, no checksums, no extended attributes).</summary>
internal static class InodeEncoder
{
    public const ushort TypeRegular = 0x8000;
    public const ushort TypeDirectory = 0x4000;
    public const ushort TypeSymlink = 0xA000;
    public const uint ExtentsFlag = 0x80000;
    public const ushort ExtraSize = 32;

    /// <summary>
    /// Fills <paramref name="inode"/> (256 bytes, cleared first). <paramref name="blocks"/> counts 4 KiB blocks (data
    /// plus extent leaves); <paramref name="iblock"/> is the 60-byte i_block (extent root or fast symlink target).
    /// </summary>
    public static void Write(Span<byte> inode, ushort type, Ext4Metadata metadata, ulong size, ushort links, long blocks, uint flags, ReadOnlySpan<byte> iblock)
    {
        inode[..Ext4Layout.InodeSize].Clear();
        var (seconds, epoch) = EncodeTime(metadata.MtimeSeconds);
        BinaryPrimitives.WriteUInt16LittleEndian(inode, (ushort)(type | (metadata.Mode & 0xFFF)));
        BinaryPrimitives.WriteUInt16LittleEndian(inode[0x02..], (ushort)metadata.Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(inode[0x04..], (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(inode[0x08..], seconds); // atime
        BinaryPrimitives.WriteUInt32LittleEndian(inode[0x0C..], seconds); // ctime
        BinaryPrimitives.WriteUInt32LittleEndian(inode[0x10..], seconds); // mtime
        BinaryPrimitives.WriteUInt16LittleEndian(inode[0x18..], (ushort)metadata.Gid);
        BinaryPrimitives.WriteUInt16LittleEndian(inode[0x1A..], links);
        BinaryPrimitives.WriteUInt32LittleEndian(inode[0x1C..], checked((uint)(blocks * (Ext4Layout.BlockSize / 512))));
        BinaryPrimitives.WriteUInt32LittleEndian(inode[0x20..], flags);
        iblock.CopyTo(inode[0x28..0x64]);
        BinaryPrimitives.WriteUInt32LittleEndian(inode[0x6C..], (uint)(size >> 32));
        BinaryPrimitives.WriteUInt16LittleEndian(inode[0x78..], (ushort)(metadata.Uid >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(inode[0x7A..], (ushort)(metadata.Gid >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(inode[0x80..], ExtraSize);
        BinaryPrimitives.WriteUInt32LittleEndian(inode[0x84..], epoch); // ctime_extra
        BinaryPrimitives.WriteUInt32LittleEndian(inode[0x88..], epoch); // mtime_extra
        BinaryPrimitives.WriteUInt32LittleEndian(inode[0x8C..], epoch); // atime_extra
    }

    /// <summary>
    /// The 32-bit seconds field and its extra word. The kernel reads the seconds as signed and adds the extra word's
    /// epoch bits times 2^32, so times from 2038 to 2106 need epoch 1 to come back unchanged; nanoseconds stay 0.
    /// </summary>
    public static (uint Seconds, uint Extra) EncodeTime(long seconds)
    {
        var clamped = Math.Clamp(seconds, 0, uint.MaxValue);
        return ((uint)clamped, clamped > int.MaxValue ? 1u : 0u);
    }
}
