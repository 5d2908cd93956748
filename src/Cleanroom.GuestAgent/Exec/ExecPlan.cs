using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Exec;

/// <summary>A request that passed every check: resolved program, final environment, working directory, identity.</summary>
internal sealed record ExecPlan(string Path, IReadOnlyList<string> Argv, IReadOnlyList<string> Env, string WorkingDirectory, UserIdentity User)
{
    /// <summary>
    /// What to spawn. A non-root user goes through the agent's own binary in its exec-as mode, which drops
    /// privileges and then execs the program: posix_spawn cannot change credentials by itself.
    /// </summary>
    public SpawnSpec ToSpawnSpec(ChildStdio stdio, bool newSession, string selfExecutable) =>
        User.IsRoot
            ? new SpawnSpec(Path, Argv, Env, WorkingDirectory, stdio, newSession)
            : new SpawnSpec(selfExecutable, ExecAsCommand.BuildArgv(User, Path, Argv), Env, WorkingDirectory, stdio, newSession);
}
