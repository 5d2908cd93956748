namespace Cleanroom.GuestAgent.Exec;

/// <summary>Where argv[0] resolved to, or why it could not be run (with the shell's exit code, 126 or 127).</summary>
internal sealed record CommandResolution(string? Path, int FailureCode, string FailureMessage)
{
    public static CommandResolution Found(string path) => new(path, 0, "");

    public static CommandResolution NotFound(string message) => new(null, 127, message);

    public static CommandResolution CannotExecute(string message) => new(null, 126, message);
}
