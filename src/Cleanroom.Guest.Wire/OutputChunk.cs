namespace Cleanroom.Guest.Wire;

/// <summary>Which of a process's output streams a chunk came from.</summary>
public enum OutputStreamKind
{
    Stdout,
    Stderr,
}

/// <summary>A piece of process output, in the order the guest sent it.</summary>
public readonly record struct OutputChunk(OutputStreamKind Stream, ReadOnlyMemory<byte> Data);
