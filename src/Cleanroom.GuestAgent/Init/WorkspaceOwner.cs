using Cleanroom.GuestAgent.Exec;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// <c>cleanroom.workspace.owner=USER[:GROUP]</c>: who should own the workspace, named as the image's default user is
/// (a name or a number, each part 1–32 characters of <c>[A-Za-z0-9._-]</c>). The host has no guest /etc/passwd, so
/// names are resolved here, against the guest root, the same way an exec's user is.
/// </summary>
internal static class WorkspaceOwner
{
    /// <summary>Longest user or group part.</summary>
    public const int MaxPartLength = 32;

    /// <summary>Largest /etc/passwd or /etc/group read; a bigger one is treated as absent.</summary>
    private const long MaxDatabaseBytes = 4 << 20;

    /// <summary>The value when it is <c>USER</c> or <c>USER:GROUP</c> of allowed characters; null otherwise.</summary>
    public static string? Valid(string value)
    {
        var parts = value.Split(':');
        return parts.Length <= 2 && parts.All(IsValidPart) ? value : null;
    }

    /// <summary>
    /// The owner's identity, or null (with <paramref name="error"/>) when a name is unknown. Root (uid 0) is returned
    /// as is; the caller decides it needs no mapping.
    /// </summary>
    public static UserIdentity? Resolve(string owner, string passwdPath, string groupPath, out string error) =>
        UserResolver.Resolve(owner, ReadBounded(passwdPath), ReadBounded(groupPath), out error);

    private static bool IsValidPart(string part) =>
        part.Length is > 0 and <= MaxPartLength && part.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private static string? ReadBounded(string path)
    {
        try
        {
            return new FileInfo(path).Length <= MaxDatabaseBytes ? File.ReadAllText(path) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
