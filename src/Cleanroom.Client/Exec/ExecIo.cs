using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Client.Exec;

/// <summary>The byte streams an exec is wired to: the command's output goes out raw, unbuffered and unmixed.</summary>
public sealed record ExecIo
{
    /// <summary>Receives the command's stdout, chunk by chunk, flushed after each.</summary>
    public required Stream Stdout { get; init; }

    /// <summary>Receives the command's stderr, chunk by chunk, flushed after each.</summary>
    public required Stream Stderr { get; init; }

    /// <summary>
    /// The descriptor <see cref="Stdout"/> writes to, when it is this process's own standard output: output read from the
    /// daemon's log file then goes there by sendfile(2), copied by the kernel instead of through this process (a pipe
    /// takes the log's pages without a copy). Whatever the descriptor refuses (a file opened for appending; a terminal
    /// before Linux 5.11) goes through <see cref="Stdout"/>. Null: always <see cref="Stdout"/>.
    /// </summary>
    public SafeFileHandle? StdoutFile { get; init; }

    /// <summary>The descriptor behind <see cref="Stderr"/>, as <see cref="StdoutFile"/> is behind <see cref="Stdout"/>.</summary>
    public SafeFileHandle? StderrFile { get; init; }

    /// <summary>Read until end of file and forwarded when <see cref="ExecSpec.AttachStdin"/> is set.</summary>
    public Stream? Stdin { get; init; }
}
