using Cleanroom.Guest.Wire.Framing;

namespace Cleanroom.Guest.Wire.Messages;

/// <summary>
/// How a guest process ended. <see cref="Signal"/> is non-zero when a signal killed it; <see cref="Error"/> is set when
/// the agent could not start it at all (then <see cref="ExitCode"/> follows shell conventions: 126 or 127).
/// </summary>
public sealed record ExitMessage(int ExitCode, int Signal, string Error)
{
    public const int MaxErrorLength = 4096;

    /// <summary>The code a shell would report: 128+N for death by signal N.</summary>
    public int ShellExitCode => Signal != 0 ? 128 + Signal : ExitCode;

    public byte[] Encode() => new PayloadWriter().WriteInt32(ExitCode).WriteInt32(Signal).WriteString(Error).ToArray();

    public static ExitMessage Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload, "exit");
        var code = reader.ReadInt32();
        var signal = reader.ReadInt32();
        var error = reader.ReadString();
        reader.EnsureEnd();
        if (code is < 0 or > 255 || signal is < 0 or > 64 || error.Length > MaxErrorLength)
        {
            throw new WireProtocolException($"exit: out-of-range values (code {code}, signal {signal}, error length {error.Length})");
        }

        return new ExitMessage(code, signal, error);
    }
}
