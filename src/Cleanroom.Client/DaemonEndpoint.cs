namespace Cleanroom.Client;

/// <summary>
/// Where the daemon's control API listens: a unix socket (the normal case) or an http(s) address.
/// </summary>
public sealed record DaemonEndpoint
{
    private const string UnixScheme = "unix://";

    private DaemonEndpoint(string? socketPath, Uri? address)
    {
        SocketPath = socketPath;
        Address = address;
    }

    /// <summary>Absolute path of the unix socket, or null for an http(s) endpoint.</summary>
    public string? SocketPath { get; }

    /// <summary>The http(s) address, or null for a unix socket endpoint.</summary>
    public Uri? Address { get; }

    /// <summary>The canonical text form: <c>unix:///path</c> or <c>http://host:port</c>.</summary>
    public string Display => SocketPath is not null ? UnixScheme + SocketPath : Address!.GetLeftPart(UriPartial.Authority);

    /// <summary>The unix socket at <paramref name="socketPath"/>.</summary>
    /// <exception cref="EndpointFormatException">The path is not absolute.</exception>
    public static DaemonEndpoint ForSocket(string socketPath)
    {
        if (!Path.IsPathFullyQualified(socketPath))
        {
            throw new EndpointFormatException(socketPath, "a unix socket path must be absolute");
        }

        return new DaemonEndpoint(socketPath, null);
    }

    /// <summary>Accepts <c>unix:///path</c>, an absolute path, <c>http://host:port</c> or <c>https://host:port</c>.</summary>
    public static DaemonEndpoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            throw new EndpointFormatException(text, "it is empty");
        }

        if (trimmed.StartsWith(UnixScheme, StringComparison.OrdinalIgnoreCase))
        {
            var path = trimmed[UnixScheme.Length..];
            return path.StartsWith('/')
                ? new DaemonEndpoint(path, null)
                : throw new EndpointFormatException(text, "expected unix:///absolute/path");
        }

        if (trimmed.StartsWith('/'))
        {
            return new DaemonEndpoint(trimmed, null);
        }

        if (Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            if (uri.AbsolutePath != "/" || uri.Query.Length > 0)
            {
                throw new EndpointFormatException(text, "an http(s) endpoint is just scheme, host and port");
            }

            return new DaemonEndpoint(null, uri);
        }

        throw new EndpointFormatException(text, "expected unix:///path, an absolute socket path, or http(s)://host:port");
    }

    /// <summary>The same as <see cref="Display"/>.</summary>
    public override string ToString() => Display;
}
