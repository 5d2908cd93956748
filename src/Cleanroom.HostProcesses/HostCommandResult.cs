namespace Cleanroom.HostProcesses;

/// <summary>What a host tool printed and how it exited. Output is bounded (the tail is kept).</summary>
public sealed record HostCommandResult(int ExitCode, string Stdout, string Stderr);
