using Cleanroom.HostProcesses;

namespace Cleanroom.Workspaces.Git;

/// <summary>
/// Runs host git through <see cref="HostCommand"/> with an environment that cannot redirect it: variables that point
/// git at another repository, index or object store are removed, and prompts are off (a daemon has no terminal).
/// Commands on the staging copy also ignore the system and global configuration, so no credential helper, filter
/// driver, hooks path or URL rewrite of the host can reach the image.
/// </summary>
internal static class HostGit
{
    /// <summary>Variables inherited from whoever started the daemon that would make git act on something else.</summary>
    internal static readonly string[] RemovedVariables =
    [
        "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_SHALLOW_FILE",
        "GIT_REPLACE_REF_BASE", "GIT_NO_REPLACE_OBJECTS", "GIT_GRAFT_FILE",
    ];

    /// <summary>Set for every git run: never wait for a password.</summary>
    internal static readonly (string Name, string Value)[] CommonVariables = [("GIT_TERMINAL_PROMPT", "0")];

    /// <summary>Set for runs on the staging copy: only its own configuration counts.</summary>
    internal static readonly (string Name, string Value)[] IsolatedVariables =
        [("GIT_CONFIG_NOSYSTEM", "1"), ("GIT_CONFIG_GLOBAL", "/dev/null")];

    /// <summary>
    /// A start for <c>git -C <paramref name="directory"/> ARGS</c> with every stream redirected and
    /// <paramref name="removedVariables"/> taken out of the inherited environment, for callers that stream git's output
    /// themselves (they add their own variables).
    /// </summary>
    public static System.Diagnostics.ProcessStartInfo StartInfo(string directory, IEnumerable<string> args, IEnumerable<string> removedVariables)
    {
        var info = new System.Diagnostics.ProcessStartInfo("git")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("-C");
        info.ArgumentList.Add(directory);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in removedVariables)
        {
            info.Environment.Remove(name);
        }

        return info;
    }

    /// <summary>Runs <c>git -C <paramref name="directory"/> ARGS</c>; throws <see cref="HostCommandException"/> on a non-zero exit.</summary>
    public static Task<HostCommandResult> RunAsync(
        string directory, bool isolated, IEnumerable<string> args, TimeSpan timeout, CancellationToken ct, string? stdin = null) =>
        HostCommand.RunAsync("env", Argv(directory, isolated, args), timeout, ct, stdin);

    /// <summary>Like <see cref="RunAsync"/> but returns whatever exit code git had.</summary>
    public static Task<HostCommandResult> TryRunAsync(
        string directory, bool isolated, IEnumerable<string> args, TimeSpan timeout, CancellationToken ct) =>
        HostCommand.TryRunAsync("env", Argv(directory, isolated, args), timeout, ct);

    /// <summary>
    /// argv for <c>env</c>: HostCommand takes no environment, and <c>env</c> (no shell involved) is the smallest way to
    /// give one to a single run.
    /// </summary>
    private static List<string> Argv(string directory, bool isolated, IEnumerable<string> args)
    {
        var argv = new List<string>();
        foreach (var name in RemovedVariables)
        {
            argv.Add("-u");
            argv.Add(name);
        }

        foreach (var (name, value) in isolated ? CommonVariables.Concat(IsolatedVariables) : CommonVariables)
        {
            argv.Add(name + "=" + value);
        }

        argv.AddRange(["git", "-C", directory]);
        argv.AddRange(args);
        return argv;
    }
}
