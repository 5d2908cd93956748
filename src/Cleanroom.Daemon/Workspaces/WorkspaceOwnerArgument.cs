using System.Globalization;

namespace Cleanroom.Daemon.Workspaces;

/// <summary>
/// <c>cleanroom.workspace.owner=USER[:GROUP]</c>: tells the guest agent to make the workspace the image's default
/// user's (an idmapped mount, no per-file cost), so executions that run as that user can write it. The daemon has no
/// guest /etc/passwd: it passes the image's <c>User</c> as written and the agent resolves names. Only plain values
/// are passed (each part 1–32 characters of <c>[A-Za-z0-9._-]</c>, the agent's own rule); the image's config is
/// not trusted to put anything else on the kernel command line.
/// </summary>
public static class WorkspaceOwnerArgument
{
    /// <summary>The kernel argument's name.</summary>
    public const string Name = "cleanroom.workspace.owner";

    /// <summary>Longest user or group part.</summary>
    public const int MaxPartLength = 32;

    /// <summary>
    /// The argument for an image whose default user is <paramref name="imageUser"/>; null when it is unset or root
    /// (root can write the workspace as it is), or when the value is not plain (<paramref name="refused"/> is then
    /// true, for the caller to log).
    /// </summary>
    public static string? For(string? imageUser, out bool refused)
    {
        refused = false;
        if (string.IsNullOrEmpty(imageUser) || IsRoot(imageUser))
        {
            return null;
        }

        var parts = imageUser.Split(':');
        refused = parts.Length > 2 || !parts.All(IsPlain);
        return refused ? null : $"{Name}={imageUser}";
    }

    /// <summary>Root by name or number (<c>root</c>, <c>0</c>, <c>0:GROUP</c>), or no user part at all (the runtime default).</summary>
    private static bool IsRoot(string imageUser)
    {
        var user = imageUser.Split(':')[0];
        return user.Length == 0 || user == "root"
            || (uint.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out var uid) && uid == 0);
    }

    private static bool IsPlain(string part) =>
        part.Length is > 0 and <= MaxPartLength && part.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
