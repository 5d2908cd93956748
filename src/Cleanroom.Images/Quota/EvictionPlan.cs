namespace Cleanroom.Images.Quota;

/// <summary>
/// Which stored images to evict so that <c>needed</c> more bytes fit under the store's quota: unused images, least
/// recently used first, and no more of them than necessary. The store's size is the sum of the images' file-system
/// sizes, an upper bound of their disk use (the files are sparse, and a base image is never written to).
/// </summary>
internal static class EvictionPlan
{
    /// <summary>
    /// The images to evict, oldest use first (empty when it already fits), or null when it cannot fit even with every
    /// evictable image gone.
    /// </summary>
    public static IReadOnlyList<ImageRecord>? Choose(IReadOnlyList<ImageRecord> stored, long needed, long maxStoreBytes, Func<ImageRecord, bool> evictable)
    {
        var used = stored.Sum(i => i.FilesystemBytes);
        var chosen = new List<ImageRecord>();
        foreach (var candidate in stored.OrderBy(i => i.LastUsedAt).ThenBy(i => i.Digest.ToString(), StringComparer.Ordinal))
        {
            if (used + needed <= maxStoreBytes)
            {
                break;
            }

            if (evictable(candidate))
            {
                chosen.Add(candidate);
                used -= candidate.FilesystemBytes;
            }
        }

        return used + needed <= maxStoreBytes ? chosen : null;
    }
}
