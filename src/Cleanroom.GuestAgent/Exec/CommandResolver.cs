namespace Cleanroom.GuestAgent.Exec;

/// <summary>
/// Resolves argv[0] the way a shell does: a name with a slash is taken as a path (relative to the working
/// directory); otherwise each PATH entry is tried in order (an empty entry means the working directory). Doing it
/// here, before spawning, turns "not found" and "not executable" into clear 127/126 results.
/// </summary>
internal static class CommandResolver
{
    public static CommandResolution Resolve(string command, string? searchPath, string workingDirectory, Func<string, FileKind> probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        if (command.Contains('/', StringComparison.Ordinal))
        {
            var path = Path.Combine(workingDirectory, command);
            return probe(path) switch
            {
                FileKind.Executable => CommandResolution.Found(path),
                FileKind.Missing => CommandResolution.NotFound($"{command}: no such file or directory"),
                FileKind.Directory => CommandResolution.CannotExecute($"{command}: is a directory"),
                _ => CommandResolution.CannotExecute($"{command}: permission denied"),
            };
        }

        CommandResolution? notExecutable = null;
        foreach (var directory in (searchPath ?? "").Split(':'))
        {
            var candidate = Path.Combine(workingDirectory, directory.Length == 0 ? "." : directory, command);
            switch (probe(candidate))
            {
                case FileKind.Executable:
                    return CommandResolution.Found(candidate);
                case FileKind.NotExecutable:
                    // A shell keeps looking but reports "permission denied" if nothing later is runnable.
                    notExecutable ??= CommandResolution.CannotExecute($"{command}: permission denied ({candidate})");
                    break;
                default:
                    break;
            }
        }

        return notExecutable ?? CommandResolution.NotFound($"command not found: {command}");
    }
}
