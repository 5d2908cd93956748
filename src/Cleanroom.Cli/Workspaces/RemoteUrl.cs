namespace Cleanroom.Cli.Workspaces;

/// <summary>A remote's URL as it may be recorded and shown: any user-info (a token or password) removed.</summary>
internal static class RemoteUrl
{
    public static string WithoutCredentials(string url)
    {
        if (url.Any(char.IsControl))
        {
            return "";
        }

        // scheme://user:secret@host/… → scheme://host/…; scp-like user@host:path has no secret and stays.
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0)
        {
            return url;
        }

        var authorityStart = scheme + 3;
        var slash = url.IndexOf('/', authorityStart);
        var authorityEnd = slash < 0 ? url.Length : slash;
        var at = url.LastIndexOf('@', authorityEnd - 1, authorityEnd - authorityStart);
        return at < 0 ? url : url[..authorityStart] + url[(at + 1)..];
    }
}
