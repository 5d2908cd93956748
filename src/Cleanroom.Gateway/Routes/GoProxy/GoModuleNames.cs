using System.Buffers;

namespace Cleanroom.Gateway.Routes.GoProxy;

/// <summary>
/// Checks module paths and versions as the Go module proxy protocol writes them in URLs: case-escaped (an upper-case
/// letter is written <c>!</c> and its lower-case form, so paths stay unique on case-insensitive file systems), made
/// only of the characters Go allows. Everything a guest sends is hostile: anything outside the grammar is refused,
/// so what reaches the upstream and the cache key is always a plain, canonical string.
/// </summary>
internal static class GoModuleNames
{
    /// <summary>Longest module path accepted (escaped form); real ones are far shorter.</summary>
    public const int MaxPathLength = 1024;

    /// <summary>Longest version accepted (escaped form); pseudo-versions are about 40 characters.</summary>
    public const int MaxVersionLength = 256;

    /// <summary>The build suffix Go keeps on versions of modules without a go.mod at major version 2 or more.</summary>
    private const string Incompatible = "+incompatible";

    private static readonly SearchValues<char> PreReleaseCharacters =
        SearchValues.Create("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-");

    /// <summary>
    /// True when <paramref name="escaped"/> is a valid case-escaped module path. <paramref name="problem"/> says why
    /// not (safe to show: it never quotes the input).
    /// </summary>
    public static bool IsValidPath(string escaped, out string problem)
    {
        if (escaped.Length is 0 or > MaxPathLength)
        {
            problem = $"a module path is 1 to {MaxPathLength} characters";
            return false;
        }

        if (!TryUnescape(escaped, out var path, out problem))
        {
            return false;
        }

        var elements = path.Split('/');
        for (var i = 0; i < elements.Length; i++)
        {
            if (!IsValidElement(elements[i], first: i == 0, out problem))
            {
                return false;
            }
        }

        problem = "";
        return true;
    }

    /// <summary>
    /// True when <paramref name="escaped"/> is a case-escaped canonical semantic version: <c>vMAJOR.MINOR.PATCH</c>,
    /// an optional pre-release, an optional <c>+incompatible</c>. Only these name one immutable module version;
    /// shorthand (<c>v1.2</c>), branch names and commit hashes are queries whose answer moves.
    /// </summary>
    public static bool IsCanonicalVersion(string escaped, out string problem)
    {
        problem = "a version must be a canonical semantic version such as v1.2.3, v1.2.3-pre.1 or v2.0.0+incompatible "
            + "(branch names, commit hashes and shorthand like v1.2 are not served through the gateway)";
        if (escaped.Length is < 6 or > MaxVersionLength || escaped[0] != 'v' || !TryUnescape(escaped, out var version, out _))
        {
            return false;
        }

        var rest = version.AsSpan(1);
        if (rest.EndsWith(Incompatible, StringComparison.Ordinal))
        {
            rest = rest[..^Incompatible.Length];
        }

        var dash = rest.IndexOf('-');
        var core = dash < 0 ? rest : rest[..dash];
        var parts = 0;
        foreach (var range in core.Split('.'))
        {
            if (!IsNumber(core[range]))
            {
                return false;
            }

            parts++;
        }

        if (parts != 3)
        {
            return false;
        }

        if (dash >= 0)
        {
            var pre = rest[(dash + 1)..];
            foreach (var range in pre.Split('.'))
            {
                var identifier = pre[range];
                if (identifier.IsEmpty || identifier.ContainsAnyExcept(PreReleaseCharacters))
                {
                    return false;
                }

                // A numeric identifier has no leading zero (it is compared as a number).
                if (!identifier.ContainsAnyExceptInRange('0', '9') && identifier.Length > 1 && identifier[0] == '0')
                {
                    return false;
                }
            }
        }

        problem = "";
        return true;
    }

    /// <summary>Undoes the case escaping; refuses a raw upper-case letter and a <c>!</c> not followed by a-z.</summary>
    private static bool TryUnescape(string escaped, out string text, out string problem)
    {
        var chars = new char[escaped.Length];
        var n = 0;
        for (var i = 0; i < escaped.Length; i++)
        {
            var c = escaped[i];
            if (char.IsAsciiLetterUpper(c))
            {
                problem = "upper-case letters must be written case-escaped ('!' and the lower-case letter)";
                text = "";
                return false;
            }

            if (c == '!')
            {
                if (i + 1 >= escaped.Length || !char.IsAsciiLetterLower(escaped[i + 1]))
                {
                    problem = "a '!' must be followed by a lower-case letter";
                    text = "";
                    return false;
                }

                c = char.ToUpperInvariant(escaped[++i]);
            }

            chars[n++] = c;
        }

        text = new string(chars, 0, n);
        problem = "";
        return true;
    }

    /// <summary>
    /// One path element: letters, digits and <c>-._~</c>, not empty, not starting or ending with a dot (which also
    /// rules out <c>.</c> and <c>..</c>). The first element is a domain name: lower case, with a dot, no leading dash.
    /// </summary>
    private static bool IsValidElement(string element, bool first, out string problem)
    {
        if (element.Length == 0)
        {
            problem = "a module path has no empty elements and no leading or trailing '/'";
            return false;
        }

        if (element[0] == '.' || element[^1] == '.')
        {
            problem = "a module path element may not begin or end with a dot";
            return false;
        }

        foreach (var c in element)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '.' or '_' or '~'))
            {
                problem = "a module path holds only letters, digits, '-', '.', '_', '~' and '/'";
                return false;
            }
        }

        if (first && (!element.Contains('.', StringComparison.Ordinal) || element[0] == '-'
            || element.Any(c => char.IsAsciiLetterUpper(c) || c is '_' or '~')))
        {
            problem = "a module path starts with a lower-case domain name (with a dot, no leading dash)";
            return false;
        }

        problem = "";
        return true;
    }

    /// <summary>A decimal number without a leading zero (semantic version core part).</summary>
    private static bool IsNumber(ReadOnlySpan<char> text) =>
        !text.IsEmpty && !text.ContainsAnyExceptInRange('0', '9') && (text.Length == 1 || text[0] != '0');
}
