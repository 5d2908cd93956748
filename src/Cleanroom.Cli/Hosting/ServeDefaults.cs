using Cleanroom.Client;

namespace Cleanroom.Cli.Hosting;

/// <summary>Where <c>cleanroom serve</c> listens, keeps state and finds boot assets when not told.</summary>
internal static class ServeDefaults
{
    /// <summary>Boot assets directory given by environment when <c>--assets</c> is not.</summary>
    public const string AssetsVariable = "CLEANROOM_ASSETS";

    /// <summary>The same socket a client finds by default (see <see cref="EndpointResolver"/>).</summary>
    public static string SocketPath(Func<string, string?> environment, LocalUser user) =>
        EndpointResolver.ListenSocketPath(environment, user);

    /// <summary><c>/var/lib/cleanroom</c> for root, else <c>$XDG_STATE_HOME/cleanroom</c> (~/.local/state/cleanroom).</summary>
    public static string StateDir(Func<string, string?> environment, LocalUser user)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(user);
        if (user.IsRoot)
        {
            return "/var/lib/cleanroom";
        }

        if (environment("XDG_STATE_HOME") is { Length: > 0 } stateHome && Path.IsPathFullyQualified(stateHome))
        {
            return Path.Join(stateHome, "cleanroom");
        }

        if (environment("HOME") is { Length: > 0 } home)
        {
            return Path.Join(home, ".local", "state", "cleanroom");
        }

        // No home (a service account): keep state beside the default socket's directory rather than in "/".
        return Path.Join(Path.GetTempPath(), $"cleanroom-{user.Uid}", "state");
    }

    /// <summary>
    /// <c>--assets</c>, else <c>$CLEANROOM_ASSETS</c>, else <c>assets/</c> beside the installed binary's directory
    /// (<c>.build/bin/../assets</c> in a checkout) when it exists, else null: the daemon decides.
    /// </summary>
    public static string? AssetsDir(string? flag, Func<string, string?> environment, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (!string.IsNullOrWhiteSpace(flag))
        {
            return Path.GetFullPath(flag);
        }

        if (environment(AssetsVariable) is { Length: > 0 } fromEnvironment)
        {
            return Path.GetFullPath(fromEnvironment);
        }

        var besideBinary = Path.GetFullPath(Path.Join(baseDirectory, "..", "assets"));
        return Directory.Exists(besideBinary) ? besideBinary : null;
    }
}
