namespace Cleanroom.Client.Sdk;

/// <summary>How <see cref="CleanroomClient.ExecAsync(string, IReadOnlyList{string}, Stream, Stream, Stream?, ExecOptions?, CancellationToken)"/> runs a command.</summary>
public sealed record ExecOptions
{
    /// <summary>The defaults: the image's user and working directory, no terminal, SIGKILL on cancellation.</summary>
    public static readonly ExecOptions Default = new();

    /// <summary>Variables added to the command's environment (names must be non-empty, without '=' or NUL).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Guest working directory; null for the default (the workspace when there is one).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Guest user (name or uid[:gid]); null for the image's user.</summary>
    public string? User { get; init; }

    /// <summary>Run on a pseudo-terminal; stdout and stderr then arrive merged on stdout.</summary>
    public bool Tty { get; init; }

    /// <summary>Terminal width with <see cref="Tty"/>; 0 lets the guest choose.</summary>
    public int Columns { get; init; }

    /// <summary>Terminal height with <see cref="Tty"/>; 0 lets the guest choose.</summary>
    public int Rows { get; init; }

    /// <summary>The signal sent to the command when the caller cancels (default SIGKILL, 9).</summary>
    public int CancelSignal { get; init; } = Signals.Kill;

    /// <summary>
    /// How long a cancelled exec waits for the signalled command to end before it stops following it (default 10 s).
    /// </summary>
    public TimeSpan CancelGrace { get; init; } = TimeSpan.FromSeconds(10);
}
