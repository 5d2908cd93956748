namespace Cleanroom.Guest.Wire.Framing;

/// <summary>
/// Reads frames from a byte stream, enforcing the frame size limit before allocating and a deadline for a frame's
/// body once its header has arrived (a peer cannot park a half-sent frame forever).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The buffer wraps a stream owned by the caller; disposing it here would close the caller's connection.")]
public sealed class FrameReader
{
    private readonly Stream _stream;
    private readonly WireLimits _limits;
    private readonly byte[] _header = new byte[FrameHeader.Size];

    public FrameReader(Stream stream, WireLimits limits)
    {
        // Reads are small and frequent; a read-only buffer in front saves syscalls. Writes never go through it.
        _stream = new BufferedStream(stream, 64 * 1024);
        _limits = limits;
    }

    /// <summary>The next frame, or null on a clean end of stream between frames.</summary>
    public async ValueTask<Frame?> ReadAsync(CancellationToken cancellationToken)
    {
        int got;
        try
        {
            got = await _stream.ReadAtLeastAsync(_header, FrameHeader.Size, throwOnEndOfStream: false, cancellationToken);
        }
        catch (IOException ex)
        {
            throw new WireProtocolException("connection to the peer failed: " + ex.Message, ex);
        }

        if (got == 0)
        {
            return null;
        }

        if (got < FrameHeader.Size)
        {
            throw new WireProtocolException($"connection ended inside a frame header ({got} of {FrameHeader.Size} bytes)");
        }

        var header = FrameHeader.Parse(_header, _limits.MaxFramePayload);
        // Not zeroed first: the read below fills every byte or throws, and the array is never seen before that.
        var payload = header.PayloadLength == 0 ? [] : GC.AllocateUninitializedArray<byte>(header.PayloadLength);
        if (payload.Length > 0)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_limits.FrameBodyTimeout);
            try
            {
                await _stream.ReadExactlyAsync(payload, deadline.Token);
            }
            catch (EndOfStreamException ex)
            {
                throw new WireProtocolException($"connection ended inside a {header.Type} frame body", ex);
            }
            catch (IOException ex)
            {
                throw new WireProtocolException("connection to the peer failed: " + ex.Message, ex);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new WireProtocolException($"{header.Type} frame body did not arrive within {_limits.FrameBodyTimeout.TotalSeconds:0.#} s");
            }
        }

        return new Frame(header.Type, header.StreamId, payload);
    }
}
