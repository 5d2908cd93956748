using System.Globalization;

namespace Cleanroom.Daemon.Executions;

/// <summary>
/// git reads extra configuration from <c>GIT_CONFIG_COUNT</c> and the numbered <c>GIT_CONFIG_KEY_i</c> /
/// <c>GIT_CONFIG_VALUE_i</c> pairs. The daemon's own pairs (the gateway's URL rewrites) must not be lost when an image
/// or a job sets pairs of its own, which key-by-key merging would do (their COUNT replaces ours, and index 0 collides),
/// so the daemon's pairs are appended after theirs with the count raised to cover both.
/// </summary>
public static class GitConfigEntries
{
    /// <summary>The variable holding how many pairs git reads.</summary>
    public const string CountVariable = "GIT_CONFIG_COUNT";

    /// <summary>Set to <c>off</c> by an image or a job, the daemon's pairs are left out (git then reaches hosts directly).</summary>
    public const string OptOutVariable = "CLEANROOM_GATEWAY_GIT";

    private const string KeyPrefix = "GIT_CONFIG_KEY_";
    private const string ValuePrefix = "GIT_CONFIG_VALUE_";

    /// <summary>Most pairs an environment may already hold for the daemon's to be appended (git has no limit; a job does).</summary>
    private const int MaxExistingPairs = 10_000;

    /// <summary>True for <c>GIT_CONFIG_COUNT</c> and the numbered key and value variables.</summary>
    public static bool IsGitConfig(string name) =>
        name == CountVariable || name.StartsWith(KeyPrefix, StringComparison.Ordinal) || name.StartsWith(ValuePrefix, StringComparison.Ordinal);

    /// <summary>The pairs that <paramref name="entries"/> (<c>KEY=VALUE</c>) declare, in order; none when the count is missing or bad.</summary>
    public static List<KeyValuePair<string, string>> Pairs(IReadOnlyList<string> entries)
    {
        var values = ToDictionary(entries);
        var pairs = new List<KeyValuePair<string, string>>();
        if (!TryCount(values, out var count))
        {
            return pairs;
        }

        for (var i = 0; i < count; i++)
        {
            var index = i.ToString(CultureInfo.InvariantCulture);
            if (values.TryGetValue(KeyPrefix + index, out var key) && values.TryGetValue(ValuePrefix + index, out var value))
            {
                pairs.Add(new(key, value));
            }
        }

        return pairs;
    }

    /// <summary>
    /// Appends <paramref name="pairs"/> after the pairs <paramref name="merged"/> holds already (renumbered from its
    /// <c>GIT_CONFIG_COUNT</c>, or from 0), raising the count. When the environment's own count is not a number git
    /// would accept, nothing is added: git refuses such an environment anyway, and the job's setting is for it to fix.
    /// Nothing is added either when the environment sets <c>CLEANROOM_GATEWAY_GIT=off</c>.
    /// </summary>
    public static void AppendTo(List<string> merged, IReadOnlyList<KeyValuePair<string, string>> pairs)
    {
        ArgumentNullException.ThrowIfNull(merged);
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0)
        {
            return;
        }

        var values = ToDictionary(merged);
        if (values.TryGetValue(OptOutVariable, out var optOut) && optOut == "off")
        {
            return;
        }

        var start = 0;
        if (values.ContainsKey(CountVariable) && !TryCount(values, out start))
        {
            return;
        }

        for (var i = 0; i < pairs.Count; i++)
        {
            var index = (start + i).ToString(CultureInfo.InvariantCulture);
            Set(merged, KeyPrefix + index, pairs[i].Key);
            Set(merged, ValuePrefix + index, pairs[i].Value);
        }

        Set(merged, CountVariable, (start + pairs.Count).ToString(CultureInfo.InvariantCulture));
    }

    private static bool TryCount(Dictionary<string, string> values, out int count)
    {
        count = 0;
        return values.TryGetValue(CountVariable, out var text)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out count)
            && count <= MaxExistingPairs;
    }

    private static Dictionary<string, string> ToDictionary(IEnumerable<string> entries)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                values[entry[..equals]] = entry[(equals + 1)..];
            }
        }

        return values;
    }

    private static void Set(List<string> merged, string name, string value)
    {
        var entry = name + "=" + value;
        var at = merged.FindIndex(e => e.Length > name.Length && e[name.Length] == '=' && e.StartsWith(name, StringComparison.Ordinal));
        if (at >= 0)
        {
            merged[at] = entry;
        }
        else
        {
            merged.Add(entry);
        }
    }
}
