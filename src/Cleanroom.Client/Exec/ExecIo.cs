namespace Cleanroom.Client.Exec;

/// <summary>The byte streams an exec is wired to: the command's output goes out raw, unbuffered and unmixed.</summary>
public sealed record ExecIo
{
    /// <summary>Receives the command's stdout, chunk by chunk, flushed after each.</summary>
    public required Stream Stdout { get; init; }

    /// <summary>Receives the command's stderr, chunk by chunk, flushed after each.</summary>
    public required Stream Stderr { get; init; }

    /// <summary>Read until end of file and forwarded when <see cref="ExecSpec.AttachStdin"/> is set.</summary>
    public Stream? Stdin { get; init; }
}
