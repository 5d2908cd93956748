namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// The sandbox's own name and machine id. Every VM restored from a template starts with the template's (and cold
/// boots of one image would all share the image's /etc/machine-id), while tools key things on them: logs, D-Bus,
/// systemd-style caches, clustering software that refuses two members with one id. The host picks both per sandbox.
/// </summary>
internal static class SandboxIdentity
{
    private const string MachineIdFile = "/etc/machine-id";
    private const string HostNameFile = "/etc/hostname";

    /// <summary>Sets the hostname and writes /etc/hostname and /etc/machine-id for whichever is given.</summary>
    public static void Apply(string? hostName, string? machineId, string etc = "/etc")
    {
        if (hostName is not null)
        {
            HostName.Set(hostName);
            Replace(Path.Combine(etc, Path.GetFileName(HostNameFile)), hostName + "\n");
        }

        if (machineId is not null)
        {
            Replace(Path.Combine(etc, Path.GetFileName(MachineIdFile)), machineId + "\n");
        }
    }

    /// <summary>A DNS label of lowercase letters, digits and inner hyphens, 1-63 characters; null otherwise.</summary>
    public static string? ValidHostName(string value) =>
        value.Length is >= 1 and <= 63
        && value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
        && value[0] != '-' && value[^1] != '-'
            ? value
            : null;

    /// <summary>32 lowercase hex digits, not all zero (systemd's format); null otherwise.</summary>
    public static string? ValidMachineId(string value) =>
        value.Length == 32 && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f')) && value.Any(c => c != '0')
            ? value
            : null;

    /// <summary>
    /// Replaces a file with a regular one (an image's may be a symlink, possibly dangling); a failure is logged, not
    /// fatal: a sandbox with the image's identity files still runs.
    /// </summary>
    private static void Replace(string path, string content)
    {
        if (SmallFile.Replace(path, content) is { } error)
        {
            AgentLog.Error("identity: " + error);
        }
    }
}
