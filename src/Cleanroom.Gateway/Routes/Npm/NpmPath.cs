namespace Cleanroom.Gateway.Routes.Npm;

/// <summary>
/// The npm route's path grammar after <c>/npm/HOST</c>: <c>NAME</c>, <c>@SCOPE%2fNAME</c> or <c>@SCOPE/NAME</c> for a
/// packument, followed by <c>/-/FILE.tgz</c> for a tarball. Names are held to npm's rules for new packages, loosened
/// only to allow the capital letters of old ones, so nothing that could mean a different path upstream gets through.
/// </summary>
internal static class NpmPath
{
    /// <summary>Longest package name npm accepts (scope included).</summary>
    public const int MaxNameLength = 214;

    /// <summary>Longest tarball file name accepted.</summary>
    public const int MaxFileLength = 255;

    /// <summary>How <see cref="TryParse"/> failed.</summary>
    public enum Failure
    {
        /// <summary>Parsed.</summary>
        None,

        /// <summary>A well-formed path for something the route does not serve (the <c>/-/</c> API, version documents).</summary>
        NotServed,

        /// <summary>Not a valid package or tarball path.</summary>
        Invalid,
    }

    /// <summary>
    /// Parses the decoded <paramref name="segments"/> (everything after the host). False with the kind of failure and
    /// a reason safe to show (guest text is never echoed).
    /// </summary>
    public static bool TryParse(IReadOnlyList<string> segments, out NpmTarget? target, out Failure failure, out string problem)
    {
        target = null;
        failure = Failure.NotServed;
        if (segments.Count == 0 || (segments.Count == 1 && segments[0].Length == 0))
        {
            problem = "the registry's root is not served; ask for a package";
            return false;
        }

        if (segments[0].StartsWith('-'))
        {
            problem = "npm's /-/ API (audit, search, login, ping, …) is not served by the gateway";
            return false;
        }

        failure = Failure.Invalid;
        string? scope = null;
        string name;
        int next;
        if (segments[0].StartsWith('@'))
        {
            var slash = segments[0].IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0)
            {
                scope = segments[0][1..slash];
                name = segments[0][(slash + 1)..];
                next = 1;
            }
            else if (segments.Count >= 2)
            {
                scope = segments[0][1..];
                name = segments[1];
                next = 2;
            }
            else
            {
                problem = "a scope names no package";
                return false;
            }

            if (!IsScope(scope))
            {
                problem = "the package scope is not a valid npm scope";
                return false;
            }
        }
        else
        {
            name = segments[0];
            next = 1;
        }

        if (!IsName(name) || (scope?.Length ?? -2) + 2 + name.Length > MaxNameLength)
        {
            problem = "the package name is not a valid npm package name";
            return false;
        }

        var rest = segments.Count - next;
        if (rest == 0)
        {
            target = new NpmTarget(scope, name, null);
            failure = Failure.None;
            problem = "";
            return true;
        }

        if (rest == 2 && segments[next] == "-")
        {
            var file = segments[next + 1];
            if (!IsTarballFile(file))
            {
                problem = "a tarball must be a plain file name ending in .tgz";
                return false;
            }

            target = new NpmTarget(scope, name, file);
            failure = Failure.None;
            problem = "";
            return true;
        }

        if (segments[^1].Length == 0)
        {
            problem = "the path has a trailing slash";
            return false;
        }

        failure = Failure.NotServed;
        problem = "only packuments (/NAME) and tarballs (/NAME/-/FILE.tgz) are served";
        return false;
    }

    /// <summary>A scope: lowercase letters, digits, <c>-</c>, <c>.</c>, <c>_</c>, <c>~</c>; not starting with a dot or underscore.</summary>
    private static bool IsScope(string scope) =>
        scope.Length > 0 && scope[0] is not ('.' or '_')
        && scope.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.' or '_' or '~');

    /// <summary>A name: letters (old packages have capitals), digits, <c>-</c>, <c>.</c>, <c>_</c>, <c>~</c>; not starting with a dot or underscore.</summary>
    private static bool IsName(string name) =>
        name.Length is > 0 and <= MaxNameLength && name[0] is not ('.' or '_')
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~');

    /// <summary>A tarball file: like a name plus <c>+</c> (build metadata), ending in <c>.tgz</c>.</summary>
    private static bool IsTarballFile(string file) =>
        file.Length is > 4 and <= MaxFileLength && file[0] is not ('.' or '_' or '-')
        && file.EndsWith(".tgz", StringComparison.Ordinal)
        && file.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '+');
}
