namespace Cleanroom.IntegrationTests;

/// <summary>Waits for a daemon's warm pool to be making or holding a VM (a sandbox directory that is no sandbox's).</summary>
public static class PoolWait
{
    /// <summary>Returns the id of a pooled VM: a ULID-named directory in the sandboxes directory not in <paramref name="sandboxIds"/>.</summary>
    public static async Task<string> VmAsync(string stateDir, IEnumerable<string> sandboxIds, TimeSpan? timeout = null)
    {
        var known = sandboxIds.ToHashSet(StringComparer.Ordinal);
        var root = Path.Combine(stateDir, "sandboxes");
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        while (DateTime.UtcNow < deadline)
        {
            // Template build VMs work there too, as tpl-*.
            var pooled = Directory.Exists(root)
                ? Directory.GetDirectories(root).Select(Path.GetFileName).FirstOrDefault(name => name!.Length == 26 && !name.StartsWith("tpl-", StringComparison.Ordinal) && !known.Contains(name))
                : null;
            if (pooled is not null)
            {
                return pooled;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"the warm pool of {stateDir} made no VM");
    }
}
