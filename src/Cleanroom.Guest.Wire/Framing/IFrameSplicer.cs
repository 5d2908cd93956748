namespace Cleanroom.Guest.Wire.Framing;

/// <summary>
/// A connection that can take a frame's payload straight from a pipe, without the bytes passing through the process
/// (splice(2) on Linux). The agent's virtio-serial port does: a process's output then reaches the host with no copy in
/// the agent, which under software emulation (TCG) is where most of an output frame's cost was.
/// </summary>
public interface IFrameSplicer
{
    /// <summary>
    /// Writes <paramref name="header"/>, then exactly <paramref name="count"/> bytes moved from the pipe
    /// <paramref name="sourceFd"/>, which must hold at least that many already (nothing else reads it), so the frame
    /// is never left half written while waiting for its producer. Throws <see cref="IOException"/> when the
    /// connection fails.
    /// </summary>
    void WriteSpliced(ReadOnlySpan<byte> header, int sourceFd, int count);
}
