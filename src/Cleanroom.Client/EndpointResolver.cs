namespace Cleanroom.Client;

/// <summary>
/// The one place that decides which daemon a client talks to:
/// <c>--host</c> &gt; <c>CLEANROOM_HOST</c> &gt; <c>CLEANROOM_SOCKET</c> &gt; the default socket (there is no client
/// configuration file), and with which TLS settings: each of <c>--tls-ca</c>, <c>--tls-cert</c> and <c>--tls-key</c>
/// over its variable.
/// </summary>
public static class EndpointResolver
{
    /// <summary>Endpoint in any accepted form; what <c>--host</c> overrides.</summary>
    public const string HostVariable = "CLEANROOM_HOST";

    /// <summary>
    /// Socket path exported by the <c>./cleanroom</c> wrapper to both the daemon it starts and the client, so the
    /// two agree even when the wrapper picked a non-default path.
    /// </summary>
    public const string SocketVariable = "CLEANROOM_SOCKET";

    /// <summary>PEM CA (or the daemon's self-signed certificate) trusted instead of the system roots; what <c>--tls-ca</c> overrides.</summary>
    public const string TlsCaVariable = "CLEANROOM_TLS_CA";

    /// <summary>PEM client certificate; what <c>--tls-cert</c> overrides.</summary>
    public const string TlsCertVariable = "CLEANROOM_TLS_CERT";

    /// <summary>PEM client key; what <c>--tls-key</c> overrides.</summary>
    public const string TlsKeyVariable = "CLEANROOM_TLS_KEY";

    /// <summary>Each flag over its variable; relative paths made absolute. Blank values count as unset.</summary>
    public static DaemonTls ResolveTls(string? ca, string? cert, string? key, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return new DaemonTls
        {
            CaFile = Pick(ca, environment(TlsCaVariable)),
            CertFile = Pick(cert, environment(TlsCertVariable)),
            KeyFile = Pick(key, environment(TlsKeyVariable)),
        };
    }

    private static string? Pick(string? flag, string? variable) =>
        !string.IsNullOrWhiteSpace(flag) ? Path.GetFullPath(flag)
        : !string.IsNullOrWhiteSpace(variable) ? Path.GetFullPath(variable)
        : null;

    /// <summary><paramref name="host"/>, else <c>CLEANROOM_HOST</c>, else the socket (<see cref="ListenSocketPath"/>).</summary>
    /// <exception cref="EndpointFormatException">The chosen text is not an accepted endpoint.</exception>
    public static DaemonEndpoint Resolve(string? host, Func<string, string?> environment, LocalUser user)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (!string.IsNullOrWhiteSpace(host))
        {
            return DaemonEndpoint.Parse(host);
        }

        var fromEnvironment = environment(HostVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return DaemonEndpoint.Parse(fromEnvironment);
        }

        return DaemonEndpoint.ForSocket(ListenSocketPath(environment, user));
    }

    /// <summary>The socket a daemon listens on when <c>--listen</c> is not given.</summary>
    public static string ListenSocketPath(Func<string, string?> environment, LocalUser user)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var exported = environment(SocketVariable);
        return !string.IsNullOrWhiteSpace(exported) ? Path.GetFullPath(exported) : DefaultSocketPath(environment, user);
    }

    /// <summary>
    /// <c>$XDG_RUNTIME_DIR/cleanroom/cleanroom.sock</c>; without XDG_RUNTIME_DIR <c>/run/cleanroom/cleanroom.sock</c>
    /// for root, else <c>${TMPDIR:-/tmp}/cleanroom-$UID/cleanroom.sock</c>. Must match the <c>./cleanroom</c> wrapper.
    /// </summary>
    public static string DefaultSocketPath(Func<string, string?> environment, LocalUser user)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(user);
        var runtimeDir = environment("XDG_RUNTIME_DIR");
        if (!string.IsNullOrEmpty(runtimeDir))
        {
            return Path.Join(runtimeDir, "cleanroom", "cleanroom.sock");
        }

        if (user.IsRoot)
        {
            return "/run/cleanroom/cleanroom.sock";
        }

        var tmp = environment("TMPDIR");
        var baseDir = string.IsNullOrEmpty(tmp) ? "/tmp" : tmp.TrimEnd('/');
        return Path.Join(baseDir.Length == 0 ? "/" : baseDir, $"cleanroom-{user.Uid}", "cleanroom.sock");
    }
}
