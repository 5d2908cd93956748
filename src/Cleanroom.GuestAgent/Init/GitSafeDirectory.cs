namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// Lists the workspace as a git <c>safe.directory</c> in the guest's system git config. Git refuses to work in a
/// repository another user owns ("detected dubious ownership"), and in a sandbox that is the normal case: the
/// workspace is the image user's while an execution runs as root, or root's while it runs as another user. That check
/// guards shared multi-user machines; a sandbox has one user of consequence and its checkout came from the host.
/// Git 2.39 (Debian 12) matches whole paths only, so a submodule's directory is not covered.
/// </summary>
internal static class GitSafeDirectory
{
    /// <summary>Adds <paramref name="path"/> to <paramref name="configFile"/> unless it is there; a failure is a warning.</summary>
    public static void Allow(string path, string configFile = "/etc/gitconfig")
    {
        var entry = $"\tdirectory = {path}\n";
        try
        {
            var existing = File.Exists(configFile) ? File.ReadAllText(configFile) : "";
            if (existing.Contains(entry, StringComparison.Ordinal))
            {
                return;
            }

            var separator = existing.Length == 0 || existing.EndsWith('\n') ? "" : "\n";
            File.AppendAllText(configFile, $"{separator}[safe]\n{entry}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            AgentLog.Warn($"workspace: cannot list {path} as a git safe.directory in {configFile} ({ex.Message}); git may refuse it for users who do not own it");
        }
    }
}
