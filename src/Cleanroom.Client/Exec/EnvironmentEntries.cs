namespace Cleanroom.Client.Exec;

/// <summary>Expands <c>-e KEY=VALUE</c> and <c>-e KEY</c> arguments into KEY=VALUE entries.</summary>
public static class EnvironmentEntries
{
    /// <summary>
    /// <c>KEY=VALUE</c> is kept as is; a bare <c>KEY</c> takes the client's value and is left out when the client
    /// does not have it (as <c>docker run -e</c> does), so scripts can pass through optional variables.
    /// </summary>
    /// <exception cref="FormatException">An entry has an empty name.</exception>
    public static IReadOnlyList<string> Expand(IEnumerable<string> entries, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(environment);
        var result = new List<string>();
        foreach (var entry in entries)
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? entry : entry[..equals];
            if (!IsValidName(name))
            {
                throw new FormatException($"invalid environment entry '{entry}': expected KEY=VALUE or KEY");
            }

            if (equals >= 0)
            {
                result.Add(entry);
            }
            else if (environment(name) is { } value)
            {
                result.Add(name + "=" + value);
            }
        }

        return result;
    }

    /// <summary>A name the guest accepts: non-empty, without <c>=</c> or NUL.</summary>
    public static bool IsValidName(string name) => name.Length > 0 && !name.Contains('\0', StringComparison.Ordinal) && !name.Contains('=', StringComparison.Ordinal);
}
