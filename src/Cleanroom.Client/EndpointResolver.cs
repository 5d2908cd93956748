namespace Cleanroom.Client;

/// <summary>
/// The one place that decides which daemon a client talks to:
/// <c>--host</c> &gt; <c>CLEANROOM_HOST</c> &gt; <c>CLEANROOM_SOCKET</c> &gt; the default socket.
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
