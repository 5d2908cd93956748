namespace Cleanroom.Daemon.Files;

/// <summary>How a guest tool ended: its exit code and the first lines of its stderr (bounded, escaped).</summary>
public sealed record GuestToolResult(int ExitCode, string Errors);
