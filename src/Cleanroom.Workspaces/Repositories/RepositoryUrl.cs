using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Cleanroom.Workspaces.Repositories;

/// <summary>
/// A validated remote repository address. <see cref="FetchUrl"/> is what git is given (the caller's spelling with the
/// scheme and host lower-cased and a default port dropped, since some servers care about a trailing <c>.git</c>);
/// <see cref="Normalized"/> also drops a trailing <c>/</c> and <c>.git</c> and is what the store keys, records and
/// shows. Neither ever holds a password or token: URLs are recorded and displayed, so credentials must come from the
/// host's git configuration (credential helpers, <c>http.extraHeader</c>, ssh keys), and a URL carrying one is refused.
/// </summary>
public sealed record RepositoryUrl
{
    /// <summary>Longest URL accepted; real ones are far shorter.</summary>
    public const int MaxLength = 2048;

    /// <summary>Transports git may use for a mirror (set as <c>GIT_ALLOW_PROTOCOL</c>): no <c>ext::</c>, <c>fd::</c> or other helpers.</summary>
    public const string AllowedProtocols = "file:git:http:https:ssh";

    private static readonly Dictionary<string, int> DefaultPorts = new(StringComparer.Ordinal)
    {
        ["http"] = 80,
        ["https"] = 443,
        ["ssh"] = 22,
        ["git"] = 9418,
    };

    private RepositoryUrl(string fetchUrl, string normalized, string? host = null, int port = 0)
    {
        FetchUrl = fetchUrl;
        Normalized = normalized;
        Host = host;
        Port = port;
        Key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalized)))[..32];
    }

    /// <summary>The URL handed to git.</summary>
    public string FetchUrl { get; }

    /// <summary>The canonical spelling: two spellings of one repository share a mirror.</summary>
    public string Normalized { get; }

    /// <summary>
    /// The server git connects to (lower case; an IPv6 literal without its brackets), or null for a path on this host.
    /// </summary>
    public string? Host { get; }

    /// <summary>The port git connects to (the scheme's default when the URL names none); 0 for a path on this host.</summary>
    public int Port { get; }

    /// <summary>The store's key: 128 bits of SHA-256 of <see cref="Normalized"/>, in hex.</summary>
    public string Key { get; }

    /// <inheritdoc/>
    public override string ToString() => Normalized;

    /// <summary>Validates and normalises <paramref name="url"/>; throws <see cref="RepositoryException"/> (InvalidUrl).</summary>
    public static RepositoryUrl Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.Length == 0 || url.Length > MaxLength)
        {
            throw Invalid(url, $"it must be 1 to {MaxLength} characters long");
        }

        // Whitespace and control characters: nothing legitimate needs them, and a newline or NUL could split a config
        // value or a credential-helper request. Percent-encoded ones are the same bytes once decoded.
        if (url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)) || HasEncodedControl(url))
        {
            throw Invalid(url, "it contains whitespace or control characters");
        }

        if (url[0] == '-')
        {
            throw Invalid(url, "it starts with '-' and would be read as an option");
        }

        if (IsTransportHelper(url))
        {
            throw Invalid(url, $"remote helpers such as 'ext::' are not allowed; use one of {AllowedProtocols.Replace(':', ',')}");
        }

        if (url[0] == '/')
        {
            return LocalPath(url, url);
        }

        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd > 0 && url[..schemeEnd].All(IsSchemeChar))
        {
            return WithScheme(url, url[..schemeEnd].ToLowerInvariant(), url[(schemeEnd + 3)..]);
        }

        return ScpLike(url);
    }

    private static RepositoryUrl WithScheme(string original, string scheme, string rest)
    {
        // git accepts these spellings of ssh; one mirror for all of them.
        scheme = scheme is "git+ssh" or "ssh+git" ? "ssh" : scheme;
        if (scheme == "file")
        {
            // file:///abs or file://localhost/abs; another host would be a network share git cannot reach this way.
            var path = rest.StartsWith("localhost/", StringComparison.OrdinalIgnoreCase) ? rest["localhost".Length..] : rest;
            if (!path.StartsWith('/'))
            {
                throw Invalid(original, "a file:// URL must name an absolute path on this host (file:///path)");
            }

            return LocalPath(original, Uri.UnescapeDataString(path));
        }

        if (!DefaultPorts.TryGetValue(scheme, out var defaultPort))
        {
            throw Invalid(original, $"the scheme '{scheme}' is not supported; use https, http, ssh, git or file");
        }

        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        var path2 = slash < 0 ? "" : rest[slash..];
        var at = authority.LastIndexOf('@');
        var user = at < 0 ? null : authority[..at];
        var hostPort = at < 0 ? authority : authority[(at + 1)..];
        if (user is not null)
        {
            CheckUser(original, scheme, user);
        }

        var (host, port) = SplitHostPort(original, hostPort);
        if (port == defaultPort)
        {
            port = null;
        }

        var trimmed = TrimPath(path2);
        if (trimmed.Length <= 1)
        {
            throw Invalid(original, "it names no repository path");
        }

        var prefix = scheme + "://" + (user is null ? "" : user + "@") + host + (port is null ? "" : ":" + port.Value.ToString(CultureInfo.InvariantCulture));
        return new RepositoryUrl(prefix + path2, prefix + trimmed, Unbracketed(host), port ?? defaultPort);
    }

    /// <summary><c>[user@]host:path</c>, git's scp-like ssh syntax (the path is relative to the login's home).</summary>
    private static RepositoryUrl ScpLike(string original)
    {
        var colon = original.IndexOf(':', StringComparison.Ordinal);
        var slash = original.IndexOf('/', StringComparison.Ordinal);
        if (colon <= 0 || (slash >= 0 && slash < colon))
        {
            throw Invalid(original, "it is neither a URL (https://, ssh://, git://, file://), an scp-like address (user@host:path) nor an absolute path");
        }

        var authority = original[..colon];
        var path = original[(colon + 1)..];
        var at = authority.LastIndexOf('@');
        var user = at < 0 ? null : authority[..at];
        var host = at < 0 ? authority : authority[(at + 1)..];
        if (user is not null)
        {
            CheckUser(original, "ssh", user);
        }

        // "[::1]:path" is an IPv6 literal; a bare "a:b:c" would be ambiguous, so require brackets for IPv6.
        CheckHost(original, host);
        var trimmed = TrimPath(path);
        if (trimmed.Length == 0 || trimmed == "/" || path.StartsWith('-'))
        {
            throw Invalid(original, "it names no repository path");
        }

        var prefix = (user is null ? "" : user + "@") + host.ToLowerInvariant() + ":";
        return new RepositoryUrl(prefix + path, prefix + trimmed, Unbracketed(host.ToLowerInvariant()), DefaultPorts["ssh"]);
    }

    private static RepositoryUrl LocalPath(string original, string path)
    {
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw Invalid(original, "it contains control characters");
        }

        var full = Path.GetFullPath(path);
        var trimmed = TrimPath(full);
        if (trimmed.Length <= 1)
        {
            throw Invalid(original, "it names no repository path");
        }

        // git is given the plain path: it needs no URL escaping, and the local transport finds "x" and "x.git" alike.
        return new RepositoryUrl(full, "file://" + trimmed);
    }

    /// <summary>A user name only, never a password or token: URLs are recorded and shown.</summary>
    private static void CheckUser(string original, string scheme, string user)
    {
        if (user.Contains(':', StringComparison.Ordinal))
        {
            throw Invalid(original, "it embeds a password or token; configure credentials in the host's git (a credential helper or http.extraHeader) instead");
        }

        // Over http(s) the user-info is where tokens go (https://TOKEN@host/...), indistinguishable from a user name.
        if (scheme is "http" or "https")
        {
            throw Invalid(original, "it embeds user information, which over http(s) is often a token; set the user name with the host's git config (credential.<url>.username) instead");
        }

        if (user.Length == 0 || user[0] == '-' || !user.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw Invalid(original, "its user name is not a plain name");
        }
    }

    private static (string Host, int? Port) SplitHostPort(string original, string hostPort)
    {
        string host;
        string? port = null;
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw Invalid(original, "its IPv6 address is not closed with ']'");
            }

            host = hostPort[..(close + 1)];
            var after = hostPort[(close + 1)..];
            if (after.Length > 0)
            {
                port = after[0] == ':' ? after[1..] : throw Invalid(original, "text follows its IPv6 address");
            }
        }
        else
        {
            var colon = hostPort.LastIndexOf(':');
            host = colon < 0 ? hostPort : hostPort[..colon];
            port = colon < 0 ? null : hostPort[(colon + 1)..];
        }

        CheckHost(original, host);
        if (port is null || port.Length == 0)
        {
            return (host.ToLowerInvariant(), null);
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            throw Invalid(original, $"its port '{port}' is not a number from 1 to 65535");
        }

        return (host.ToLowerInvariant(), number);
    }

    /// <summary>A DNS name or an IP literal; a leading '-' would be an option to ssh.</summary>
    private static void CheckHost(string original, string host)
    {
        var valid = host.Length is > 0 and <= 253 && host[0] != '-' && (host.StartsWith('[') && host.EndsWith(']')
            ? host[1..^1].Length > 0 && host[1..^1].All(c => char.IsAsciiHexDigit(c) || c is ':' or '.')
            : host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'));
        if (!valid)
        {
            throw Invalid(original, $"'{host}' is not a valid host name");
        }
    }

    private static string Unbracketed(string host) => host.StartsWith('[') ? host[1..^1] : host;

    /// <summary>Without trailing slashes and one trailing <c>.git</c> (then slashes again: "x.git/" and "x/" are x).</summary>
    private static string TrimPath(string path)
    {
        path = path.TrimEnd('/');
        if (path.EndsWith(".git", StringComparison.Ordinal))
        {
            path = path[..^4].TrimEnd('/');
        }

        return path;
    }

    /// <summary>git's rule for <c>&lt;transport&gt;::&lt;address&gt;</c>: "::" after nothing but scheme characters.</summary>
    private static bool IsTransportHelper(string url)
    {
        var index = url.IndexOf("::", StringComparison.Ordinal);
        return index >= 0 && url[..index].All(IsSchemeChar);
    }

    private static bool IsSchemeChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.';

    private static bool HasEncodedControl(string url)
    {
        for (var i = url.IndexOf('%', StringComparison.Ordinal); i >= 0; i = url.IndexOf('%', i + 1))
        {
            if (i + 2 < url.Length
                && int.TryParse(url.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
                && (value < 0x20 || value == 0x7f))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The refusal, quoting the URL only with any user-info masked, since it may hold the very secret refused.</summary>
    private static RepositoryException Invalid(string url, string reason) =>
        new(RepositoryErrorKind.InvalidUrl, $"The repository URL '{Redact(url)}' is refused: {reason}.");

    /// <summary>The URL made safe to show: control characters replaced, user-info and anything after '@' before the host hidden.</summary>
    internal static string Redact(string url)
    {
        var printable = new string([.. url.Take(200).Select(c => char.IsControl(c) ? '?' : c)]);
        var schemeEnd = printable.IndexOf("://", StringComparison.Ordinal);
        var start = schemeEnd < 0 ? 0 : schemeEnd + 3;
        var slash = printable.IndexOf('/', start);
        var authorityEnd = slash < 0 ? printable.Length : slash;
        // An absolute path has an empty authority (and LastIndexOf would be asked to search before index 0).
        var at = authorityEnd > start ? printable.LastIndexOf('@', authorityEnd - 1, authorityEnd - start) : -1;
        return at < 0 ? printable : printable[..start] + "***" + printable[at..];
    }
}
