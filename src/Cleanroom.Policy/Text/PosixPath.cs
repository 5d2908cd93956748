namespace Cleanroom.Policy.Text;

/// <summary>
/// Lexical POSIX path handling for guest paths and repository-relative patterns. Paths are never resolved
/// against a real filesystem here; <c>..</c> is refused rather than resolved so nothing can climb out of its root.
/// </summary>
internal static class PosixPath
{
    /// <summary>Collapses repeated slashes and <c>.</c> segments. Fails on <c>..</c> and control characters.</summary>
    public static bool TrySplit(string path, out string[] segments, out string problem)
    {
        segments = [];
        if (path.Any(char.IsControl))
        {
            problem = "the path contains control characters";
            return false;
        }

        if (path.Contains('\\', StringComparison.Ordinal))
        {
            problem = "the path contains a backslash; guest paths use '/'";
            return false;
        }

        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        if (parts.Contains(".."))
        {
            problem = "the path contains '..'";
            return false;
        }

        segments = parts;
        problem = string.Empty;
        return true;
    }

    public static string JoinAbsolute(IEnumerable<string> segments) => "/" + string.Join('/', segments);

    /// <summary>True when <paramref name="inner"/> equals <paramref name="outer"/> or lies beneath it.</summary>
    public static bool IsSameOrUnder(string inner, string outer)
    {
        if (string.Equals(inner, outer, StringComparison.Ordinal))
        {
            return true;
        }

        var prefix = outer.EndsWith('/') ? outer : outer + "/";
        return inner.StartsWith(prefix, StringComparison.Ordinal);
    }
}
