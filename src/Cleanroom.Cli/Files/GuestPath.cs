namespace Cleanroom.Cli.Files;

/// <summary>
/// An absolute path in a sandbox, normalised lexically ("//" and "." components dropped; ".." refused, since the
/// guest resolves it against symlinks the host cannot see). Docker cp's two suffixes are kept as flags.
/// </summary>
/// <param name="Path">Normalised: starts with '/', no trailing '/' except for the root itself.</param>
/// <param name="Contents">The argument ended in <c>/.</c>: the directory's contents, not the directory.</param>
/// <param name="TrailingSlash">The argument ended in '/': it must be (or become) a directory.</param>
internal sealed record GuestPath(string Path, bool Contents, bool TrailingSlash)
{
    /// <summary>The last component; empty for the root.</summary>
    public string Name => Path == "/" ? "" : Path[(Path.LastIndexOf('/') + 1)..];

    /// <summary>The containing directory; the root for the root.</summary>
    public string Parent => Path.LastIndexOf('/') is var slash and > 0 ? Path[..slash] : "/";

    /// <summary>Parses <paramref name="raw"/>, or returns null with a reason.</summary>
    public static GuestPath? Parse(string raw, out string? error)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (!raw.StartsWith('/'))
        {
            error = "must be an absolute path in the sandbox";
            return null;
        }

        if (raw.Contains('\0', StringComparison.Ordinal))
        {
            error = "holds a NUL character";
            return null;
        }

        var components = new List<string>();
        foreach (var component in raw.Split('/'))
        {
            if (component == "..")
            {
                error = "may not contain '..' components";
                return null;
            }

            if (component is not ("" or "."))
            {
                components.Add(component);
            }
        }

        error = null;
        return new GuestPath(
            "/" + string.Join('/', components),
            Contents: raw == "/." || raw.EndsWith("/.", StringComparison.Ordinal),
            TrailingSlash: raw.Length > 1 && raw.EndsWith('/'));
    }
}
