using System.Text;

namespace Cleanroom.Gateway.Routes.PyPi;

/// <summary>Project names (PEP 503 normalisation, PEP 508 spelling) and distribution file names.</summary>
internal static class PyPiNames
{
    /// <summary>Longest project name accepted (PyPI's own names are far shorter).</summary>
    public const int MaxProjectLength = 200;

    /// <summary>
    /// The endings of files a simple index links to: wheels, sdists, legacy eggs, and the PEP 658 metadata files
    /// clients fetch beside them. Only these are served (and cached forever) as files.
    /// </summary>
    private static readonly string[] DistributionEndings =
    [
        ".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".egg", ".metadata",
    ];

    /// <summary>
    /// True when <paramref name="name"/> is a PEP 508 project name (ASCII letters and digits, with <c>.</c>,
    /// <c>_</c> and <c>-</c> inside); <paramref name="normalized"/> is its PEP 503 form: lowercase, every run of
    /// <c>-</c>, <c>_</c> and <c>.</c> one <c>-</c>.
    /// </summary>
    public static bool TryNormalizeProject(string name, out string normalized)
    {
        normalized = "";
        if (name.Length is 0 or > MaxProjectLength || !char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]))
        {
            return false;
        }

        var builder = new StringBuilder(name.Length);
        var inSeparator = false;
        foreach (var c in name)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                builder.Append(char.ToLowerInvariant(c));
                inSeparator = false;
            }
            else if (c is '-' or '_' or '.')
            {
                if (!inSeparator)
                {
                    builder.Append('-');
                }

                inSeparator = true;
            }
            else
            {
                return false;
            }
        }

        normalized = builder.ToString();
        return true;
    }

    /// <summary>True when the last path segment names a distribution file (or its PEP 658 metadata).</summary>
    public static bool IsDistributionFile(string segment) =>
        segment.Length > 0 && DistributionEndings.Any(e => segment.Length > e.Length && segment.EndsWith(e, StringComparison.OrdinalIgnoreCase));
}
