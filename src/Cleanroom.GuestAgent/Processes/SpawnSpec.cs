namespace Cleanroom.GuestAgent.Processes;

/// <summary>
/// Everything posix_spawn needs. <see cref="NewSession"/> puts the child in a new session (for a terminal);
/// otherwise it leads a new process group. Either way its pid is the group id signals are sent to.
/// </summary>
internal sealed record SpawnSpec(
    string Path,
    IReadOnlyList<string> Argv,
    IReadOnlyList<string> Env,
    string WorkingDirectory,
    ChildStdio Stdio,
    bool NewSession);
