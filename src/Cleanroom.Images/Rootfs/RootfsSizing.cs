namespace Cleanroom.Images.Rootfs;

/// <summary>
/// How big an image's ext4 file system is made: content with head-room for what the job writes, never below a
/// floor, aligned to 4 MiB. The file is sparse, so head-room costs no host disk until the guest uses it.
/// </summary>
public static class RootfsSizing
{
    public const long MinBytes = 512L << 20;
    public const long FixedHeadroomBytes = 128L << 20;
    private const long Alignment = 4L << 20;
    private const long BlockBytes = 4096;

    /// <summary>The file-system size for <paramref name="contentBytes"/> of file data in <paramref name="entries"/> entries.</summary>
    public static long ForContent(long contentBytes, long entries)
    {
        // Every entry costs at least a block (directories, small files, symlinks); the 1.5x covers metadata,
        // the journal and the guest's own writes.
        var used = contentBytes + (entries * BlockBytes);
        return AlignUp(Math.Max(MinBytes, (used * 3 / 2) + FixedHeadroomBytes));
    }

    /// <summary>Inodes for <paramref name="entries"/> entries: twice the content's count, so the guest can create files too.</summary>
    public static long InodesFor(long entries, long filesystemBytes) =>
        Math.Max((entries * 2) + 16384, filesystemBytes / 16384);

    public static long AlignUp(long bytes) => (bytes + Alignment - 1) / Alignment * Alignment;
}
