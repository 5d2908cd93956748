using System.Globalization;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>
/// Turns the request's user field into credentials: empty or <c>root</c>; a numeric <c>uid[:gid]</c>; or a name
/// (optionally <c>name:group</c>) looked up in the guest's /etc/passwd and /etc/group.
/// </summary>
internal static class UserResolver
{
    /// <summary>The identity, or null with <paramref name="error"/> set when the user or group is unknown.</summary>
    public static UserIdentity? Resolve(string user, string? passwdText, string? groupText, out string error)
    {
        error = "";
        if (user.Length == 0 || user == "root")
        {
            return UserIdentity.Root;
        }

        var colon = user.IndexOf(':', StringComparison.Ordinal);
        var userPart = colon < 0 ? user : user[..colon];
        var groupPart = colon < 0 ? null : user[(colon + 1)..];

        PasswdEntry? account;
        uint uid;
        if (TryParseId(userPart, out uid))
        {
            account = UserDatabase.FindUser(passwdText, e => e.Id == uid);
        }
        else
        {
            account = UserDatabase.FindUser(passwdText, e => e.Name == userPart);
            if (account is null)
            {
                error = $"unknown user: {userPart} (not in /etc/passwd)";
                return null;
            }

            uid = account.Id;
        }

        // Like container runtimes: without a group, use the account's primary group, or 0 if there is no account.
        uint gid = account?.Gid ?? 0;
        if (groupPart is { Length: > 0 } && !TryParseId(groupPart, out gid))
        {
            var group = UserDatabase.FindGroup(groupText, e => e.Name == groupPart);
            if (group is null)
            {
                error = $"unknown group: {groupPart} (not in /etc/group)";
                return null;
            }

            gid = group.Id;
        }

        var home = account?.Home is { Length: > 0 } h ? h : (uid == 0 ? "/root" : "/");
        return new UserIdentity(uid, gid, home);
    }

    private static bool TryParseId(string text, out uint id) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id);
}
