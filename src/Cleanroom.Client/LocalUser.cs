namespace Cleanroom.Client;

/// <summary>The user the client (or daemon) runs as; it decides default socket and state locations.</summary>
public sealed record LocalUser(uint Uid)
{
    private static readonly Lazy<LocalUser> CurrentUser = new(() => new LocalUser(ReadEffectiveUid()));

    /// <summary>Whether the uid is 0.</summary>
    public bool IsRoot => Uid == 0;

    /// <summary>The effective user of this process.</summary>
    public static LocalUser Current => CurrentUser.Value;

    // The effective uid is the second field of "Uid:" in /proc/self/status. Reading it avoids a libc P/Invoke
    // (and the unsafe-code switch LibraryImport needs) for a value read once per process.
    private static uint ReadEffectiveUid()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    continue;
                }

                var fields = line[4..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 2 && uint.TryParse(fields[1], out var uid))
                {
                    return uid;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return Environment.IsPrivilegedProcess ? 0u : uint.MaxValue;
    }
}
