namespace Cleanroom.Guest.Wire.Framing;

/// <summary>The kind of a frame. Values are part of the wire format: never renumber.</summary>
public enum FrameType : byte
{
    /// <summary>Version and limits handshake on stream 0. Host sends first; guest answers.</summary>
    Hello = 1,

    /// <summary>Host asks the guest to start a process; opens the stream.</summary>
    Exec = 2,

    /// <summary>Host to guest bytes for the process's standard input.</summary>
    Stdin = 3,

    /// <summary>Guest to host bytes from the process's standard output (or the PTY).</summary>
    Stdout = 4,

    /// <summary>Guest to host bytes from the process's standard error.</summary>
    Stderr = 5,

    /// <summary>Guest reports that the process ended; last frame on the stream.</summary>
    Exit = 6,

    /// <summary>Host asks the guest to deliver a signal to the process.</summary>
    Signal = 7,

    /// <summary>Host reports a new terminal size for a TTY process.</summary>
    Resize = 8,

    /// <summary>Host closes the process's standard input (EOF).</summary>
    CloseStdin = 9,

    /// <summary>The receiver of data frames grants the sender more bytes.</summary>
    WindowUpdate = 10,

    /// <summary>A protocol-level error; on stream 0 it ends the connection.</summary>
    Error = 11,

    /// <summary>Host asks the guest to sync its disks and power off (stream 0).</summary>
    Shutdown = 12,

    /// <summary>Liveness and round-trip probe (stream 0); answered with <see cref="Pong"/>.</summary>
    Ping = 13,

    /// <summary>Answer to <see cref="Ping"/> carrying the same payload.</summary>
    Pong = 14,

    /// <summary>Guest reports that the process was started, with its pid.</summary>
    Started = 15,

    /// <summary>
    /// Host gives a guest restored from a template its sandbox's settings (stream 0); answered with
    /// <see cref="Configured"/>.
    /// </summary>
    Configure = 16,

    /// <summary>Guest reports how <see cref="Configure"/> went (stream 0): an empty error means success.</summary>
    Configured = 17,

    /// <summary>
    /// Host names the processes of an earlier connection it takes over, with the output bytes it already holds of
    /// each (stream 0, right after the hello); answered with <see cref="Resumed"/>. Any other first frame means the
    /// host takes over none, and the guest ends them.
    /// </summary>
    Resume = 18,

    /// <summary>Guest answers <see cref="Resume"/> (stream 0): which processes it still has, then replays their output.</summary>
    Resumed = 19,

    /// <summary>Host has recorded the process's exit: the guest may forget the stream and its retained output.</summary>
    Release = 20,
}
