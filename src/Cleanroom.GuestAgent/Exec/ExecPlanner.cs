using System.Diagnostics.CodeAnalysis;
using Cleanroom.Guest.Wire.Messages;
using Cleanroom.GuestAgent.Tools;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>
/// Checks a request and works out exactly what to run, before anything is spawned, so every user mistake becomes
/// an exit message with a clear error (126: cannot run; 127: not found) instead of a failed spawn.
/// </summary>
internal static class ExecPlanner
{
    public const string DefaultWorkingDirectory = "/";

    /// <summary>The name the agent gives itself in argv[0] when it runs its own binary (exec-as, tools).</summary>
    public const string SelfName = "cleanroom-guest-agent";

    /// <summary>
    /// Plans <paramref name="request"/>. A <see cref="ExecRequest.Tool"/> request runs <paramref name="selfExecutable"/>
    /// as <c>cleanroom-guest-agent --tool ARGV…</c> instead of looking <c>Argv[0]</c> up on PATH; user, working
    /// directory and environment are handled as for any program (a non-root tool goes through exec-as like one).
    /// </summary>
    public static bool TryPlan(ExecRequest request, IGuestFileSystem fileSystem, string selfExecutable, [NotNullWhen(true)] out ExecPlan? plan, [NotNullWhen(false)] out ExitMessage? failure)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(fileSystem);
        plan = null;
        failure = null;
        var cwd = Path.Combine(DefaultWorkingDirectory, request.Cwd);
        if (!fileSystem.IsDirectory(cwd))
        {
            failure = new ExitMessage(126, 0, $"working directory does not exist: {cwd}");
            return false;
        }

        var needsLookup = request.User.Length > 0 && request.User != "root";
        var passwd = needsLookup ? fileSystem.ReadText("/etc/passwd") : null;
        var groups = needsLookup ? fileSystem.ReadText("/etc/group") : null;
        var user = UserResolver.Resolve(request.User, passwd, groups, out var userError);
        if (user is null)
        {
            failure = new ExitMessage(126, 0, userError);
            return false;
        }

        var env = EnvironmentDefaults.Apply(request.Env, request.Tty, user.Home);
        if (request.Tool)
        {
            plan = new ExecPlan(selfExecutable, [SelfName, ToolCommand.Flag, .. request.Argv], env, cwd, user);
            return true;
        }

        var command = CommandResolver.Resolve(request.Argv[0], EnvironmentDefaults.Get(env, "PATH"), cwd, fileSystem.Probe);
        if (command.Path is null)
        {
            failure = new ExitMessage(command.FailureCode, 0, command.FailureMessage);
            return false;
        }

        plan = new ExecPlan(command.Path, request.Argv, env, cwd, user);
        return true;
    }
}
