namespace Cleanroom.Guest.Wire;

/// <summary>
/// The peer broke the protocol (malformed, oversized, unexpected or truncated input) or the connection was lost.
/// This is the only exception the decoders throw for bad input.
/// </summary>
public sealed class WireProtocolException : Exception
{
    public WireProtocolException(string message)
        : base(message)
    {
    }

    public WireProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public WireProtocolException()
        : base("guest protocol error")
    {
    }
}
