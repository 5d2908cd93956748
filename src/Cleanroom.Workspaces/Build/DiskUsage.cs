using System.Globalization;
using Cleanroom.HostProcesses;

namespace Cleanroom.Workspaces.Build;

/// <summary>
/// Allocated bytes of files (st_blocks × block size). Images are sparse and sized with head-room, so their length
/// says little about the disk they use; .NET exposes no st_blocks, and one <c>stat</c> run covers every image.
/// </summary>
internal static class DiskUsage
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    /// <summary>Allocated bytes per path; a path that vanished meanwhile is left out.</summary>
    public static async Task<Dictionary<string, long>> AllocatedBytesAsync(IReadOnlyList<string> paths, CancellationToken ct)
    {
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        if (paths.Count == 0)
        {
            return sizes;
        }

        // The store names its files itself (key + ".ext4"): no spaces or newlines to confuse the parse.
        var result = await HostCommand.TryRunAsync("stat", ["--format=%b %B %n", "--", .. paths], Timeout, ct);
        foreach (var line in result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', 3);
            if (parts.Length == 3
                && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var blocks)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var blockSize))
            {
                sizes[parts[2]] = blocks * blockSize;
            }
        }

        return sizes;
    }
}
