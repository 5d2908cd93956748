namespace Cleanroom.Policy.Text;

/// <summary>
/// Matching of one path segment against a pattern with <c>*</c> (any run of characters) and <c>?</c> (one
/// character). Iterative with single backtracking, so it is linear-ish and cannot blow up on hostile patterns.
/// </summary>
internal static class GlobSegment
{
    public static bool HasWildcard(string segment) => segment.AsSpan().IndexOfAny('*', '?') >= 0;

    public static bool IsMatch(string pattern, string name)
    {
        int p = 0, n = 0, starAt = -1, nameAtStar = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == name[n]))
            {
                p++;
                n++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                starAt = p++;
                nameAtStar = n;
            }
            else if (starAt >= 0)
            {
                p = starAt + 1;
                n = ++nameAtStar;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
