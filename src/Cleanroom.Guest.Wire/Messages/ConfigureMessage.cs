using System.Text;
using Cleanroom.Guest.Wire.Framing;

namespace Cleanroom.Guest.Wire.Messages;

/// <summary>
/// A sandbox's own settings for a guest restored from a template snapshot, which booted without them.
/// <see cref="Arguments"/> are kernel-command-line-style words (<c>cleanroom.net=…</c>, <c>cleanroom.workspace=…</c>,
/// <c>cleanroom.mac=…</c>); <see cref="Entropy"/> seeds the guest's random generator, which the snapshot would
/// otherwise hand identically to every sandbox restored from it; <see cref="UnixTimeNanoseconds"/> is the host's
/// wall clock, which the snapshot froze.
/// </summary>
public sealed record ConfigureMessage(string Arguments, byte[] Entropy, long UnixTimeNanoseconds)
{
    public const int MaxArgumentsBytes = 4096;
    public const int MinEntropyBytes = 32;
    public const int MaxEntropyBytes = 256;

    public byte[] Encode()
    {
        if (Problem(Encoding.UTF8.GetByteCount(Arguments), Arguments, Entropy.Length, UnixTimeNanoseconds) is { } problem)
        {
            throw new ArgumentException("configure: " + problem);
        }

        return new PayloadWriter().WriteString(Arguments).WriteBytes(Entropy).WriteInt64(UnixTimeNanoseconds).ToArray();
    }

    public static ConfigureMessage Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload, "configure");
        var arguments = reader.ReadString(MaxArgumentsBytes);
        var entropy = reader.ReadBytes(MaxEntropyBytes);
        var time = reader.ReadInt64();
        reader.EnsureEnd();
        if (Problem(0, arguments, entropy.Length, time) is { } problem)
        {
            throw new WireProtocolException("configure: " + problem);
        }

        return new ConfigureMessage(arguments, entropy, time);
    }

    /// <summary>What makes these fields unacceptable, or null; the same rules bind the sender and the receiver.</summary>
    private static string? Problem(int argumentBytes, string arguments, int entropyLength, long time) =>
        argumentBytes > MaxArgumentsBytes ? $"arguments take {argumentBytes} bytes, more than {MaxArgumentsBytes}"
        : arguments.Contains('\0', StringComparison.Ordinal) ? "arguments contain NUL"
        : entropyLength is < MinEntropyBytes or > MaxEntropyBytes ? $"{entropyLength} bytes of entropy, not {MinEntropyBytes} to {MaxEntropyBytes}"
        : time <= 0 ? $"wall clock {time} ns is not after 1970"
        : null;
}
