namespace Cleanroom.GuestAgent.Processes;

/// <summary>What the child gets as descriptors 0, 1 and 2.</summary>
internal abstract record ChildStdio;

/// <summary>Three pipe ends (child side), dup2'ed onto 0, 1 and 2.</summary>
internal sealed record PipeStdio(int Stdin, int Stdout, int Stderr) : ChildStdio;

/// <summary>
/// A pty slave opened by the child itself after setsid, so it becomes the controlling terminal, then copied to 1
/// and 2.
/// </summary>
internal sealed record TerminalStdio(string SlavePath) : ChildStdio;
