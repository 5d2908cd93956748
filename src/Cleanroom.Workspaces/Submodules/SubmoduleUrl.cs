using Cleanroom.Workspaces.Repositories;

namespace Cleanroom.Workspaces.Submodules;

/// <summary>
/// Where a submodule is fetched from: its <c>.gitmodules</c> URL, a relative one (<c>./x</c>, <c>../x</c>) resolved
/// against the superproject's URL as git does (relative to the superproject repository itself, so <c>../x.git</c>
/// next to <c>https://host/org/super.git</c> is <c>https://host/org/x.git</c>).
/// </summary>
internal static class SubmoduleUrl
{
    /// <summary>True for the relative forms git resolves against the superproject's URL.</summary>
    public static bool IsRelative(string url) => url.StartsWith("./", StringComparison.Ordinal) || url.StartsWith("../", StringComparison.Ordinal);

    /// <summary>
    /// <paramref name="url"/> made absolute against <paramref name="superprojectUrl"/>; null when it is relative and
    /// cannot be (no superproject URL, or it climbs above the host).
    /// </summary>
    public static string? Resolve(string url, string? superprojectUrl)
    {
        if (!IsRelative(url))
        {
            return url;
        }

        if (superprojectUrl is null)
        {
            return null;
        }

        var baseUrl = superprojectUrl.TrimEnd('/');
        var floor = Floor(baseUrl);
        var separator = '/';
        var rest = url;
        while (true)
        {
            if (rest.StartsWith("./", StringComparison.Ordinal))
            {
                rest = rest[2..];
            }
            else if (rest.StartsWith("../", StringComparison.Ordinal))
            {
                var cut = Math.Max(baseUrl.LastIndexOf('/'), baseUrl.LastIndexOf(':'));
                if (cut < floor)
                {
                    return null;
                }

                separator = baseUrl[cut];
                baseUrl = baseUrl[..cut];
                rest = rest[3..];
            }
            else
            {
                break;
            }
        }

        return rest.Length == 0 ? null : baseUrl + separator + rest;
    }

    /// <summary>
    /// Why git must not fetch <paramref name="url"/> for a submodule, or null when it may. A <c>.gitmodules</c> is
    /// written by whoever wrote the repository: a local path or <c>file://</c> would copy host files into the image, a
    /// remote helper (<c>ext::</c>) would run a command, and anything the repository store refuses stays refused.
    /// </summary>
    public static string? Refusal(string url)
    {
        if (url.StartsWith('/') || url.StartsWith("file:", StringComparison.OrdinalIgnoreCase) || url.StartsWith('.') || url.StartsWith('~'))
        {
            return "it is a local path or file:// URL, which a repository may not make the host read";
        }

        if (url.Contains("::", StringComparison.Ordinal))
        {
            return "remote helpers such as ext:: are not allowed";
        }

        try
        {
            var parsed = RepositoryUrl.Parse(url);
            return parsed.Normalized.StartsWith("file://", StringComparison.Ordinal) ? "it is a local path, which a repository may not make the host read" : null;
        }
        catch (RepositoryException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// The first index a <c>..</c> may cut at: past <c>scheme://host</c>, or at the <c>:</c> of an scp-like
    /// <c>host:path</c>, so the host is never climbed out of.
    /// </summary>
    private static int Floor(string baseUrl)
    {
        var scheme = baseUrl.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            var slash = baseUrl.IndexOf('/', scheme + 3);
            return slash < 0 ? int.MaxValue : slash;
        }

        var colon = baseUrl.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? 0 : colon;
    }
}
