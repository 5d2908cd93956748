using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Cleanroom.Vm.Assets;

/// <summary>
/// sha256 of asset files, remembered per process by path + size + mtime. Hashing the 50 MB kernel costs ~0.1 s;
/// a daemon starting many sandboxes should pay that once, and still notice when setup.sh replaces the file.
/// </summary>
public static class AssetHashCache
{
    private static readonly ConcurrentDictionary<string, Entry> Entries = new(StringComparer.Ordinal);

    /// <summary>Lower-case hex sha256 of <paramref name="path"/>, from cache when the file is unchanged.</summary>
    public static string GetSha256(string path)
    {
        var full = Path.GetFullPath(path);
        var info = new FileInfo(full);
        if (Entries.TryGetValue(full, out var cached) && cached.Size == info.Length && cached.MtimeUtc == info.LastWriteTimeUtc)
        {
            return cached.Sha256;
        }

        string digest;
        using (var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
        {
            digest = Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        // Re-stat after hashing: if the file changed meanwhile, the stale key simply misses next time.
        Entries[full] = new Entry(info.Length, info.LastWriteTimeUtc, digest);
        return digest;
    }

    private sealed record Entry(long Size, DateTime MtimeUtc, string Sha256);
}
