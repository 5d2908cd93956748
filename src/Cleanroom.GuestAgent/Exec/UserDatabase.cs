using System.Globalization;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>
/// Parses /etc/passwd and /etc/group text directly. A static glibc binary cannot use NSS (getpwnam would try to
/// dlopen modules that are not there), and the files are all a CI image has anyway. Malformed lines are skipped.
/// </summary>
internal static class UserDatabase
{
    public static PasswdEntry? FindUser(string? passwdText, Func<PasswdEntry, bool> match) =>
        Parse(passwdText, minFields: 7, fields => new PasswdEntry(fields[0], ParseId(fields[2]), ParseId(fields[3]), fields[5]), match);

    public static PasswdEntry? FindGroup(string? groupText, Func<PasswdEntry, bool> match) =>
        Parse(groupText, minFields: 3, fields => new PasswdEntry(fields[0], ParseId(fields[2]), ParseId(fields[2]), ""), match);

    private static PasswdEntry? Parse(string? text, int minFields, Func<string[], PasswdEntry> create, Func<PasswdEntry, bool> match)
    {
        if (text is null)
        {
            return null;
        }

        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var fields = line.Split(':');
            if (fields.Length < minFields || fields[0].Length == 0 || !IsId(fields[2]) || (minFields == 7 && !IsId(fields[3])))
            {
                continue;
            }

            var entry = create(fields);
            if (match(entry))
            {
                return entry;
            }
        }

        return null;
    }

    private static bool IsId(string text) => uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    private static uint ParseId(string text) => uint.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
}
