namespace Cleanroom.GuestAgent.Exec;

/// <summary>
/// Fills in the variables a process expects when the request leaves them out. Requested entries are kept verbatim
/// and in order; defaults are appended only for names that are absent.
/// </summary>
internal static class EnvironmentDefaults
{
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    public const string DefaultTerm = "xterm-256color";

    public static IReadOnlyList<string> Apply(IReadOnlyList<string> requested, bool tty, string home)
    {
        var result = new List<string>(requested.Count + 3);
        result.AddRange(requested);
        AddIfMissing(result, "PATH", DefaultPath);
        AddIfMissing(result, "HOME", home);
        if (tty)
        {
            AddIfMissing(result, "TERM", DefaultTerm);
        }

        return result;
    }

    /// <summary>The value of the last <paramref name="name"/> entry (what getenv in the child would see), or null.</summary>
    public static string? Get(IReadOnlyList<string> environment, string name)
    {
        string? value = null;
        foreach (var entry in environment)
        {
            if (NameOf(entry).SequenceEqual(name))
            {
                value = entry[(name.Length + 1)..];
            }
        }

        return value;
    }

    private static void AddIfMissing(List<string> environment, string name, string value)
    {
        if (Get(environment, name) is null)
        {
            environment.Add(name + "=" + value);
        }
    }

    private static ReadOnlySpan<char> NameOf(string entry)
    {
        var equals = entry.IndexOf('=', StringComparison.Ordinal);
        return equals < 0 ? entry : entry.AsSpan(0, equals);
    }
}
