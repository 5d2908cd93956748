using System.Buffers;

namespace Cleanroom.Guest.Wire.Framing;

/// <summary>
/// Writes whole frames to a byte stream; concurrent callers are serialised so frames never interleave. Holds no
/// resource of its own (the gate never allocates a wait handle), so it needs no disposal.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "SemaphoreSlim only needs disposal when its wait handle was used; it never is here.")]
public sealed class FrameWriter
{
    private const int SeparateWriteBytes = 16 * 1024;
    private readonly Stream _stream;
    private readonly int _maxPayload;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public FrameWriter(Stream stream, int maxPayload)
    {
        _stream = stream;
        _maxPayload = maxPayload;
    }

    public async Task WriteAsync(FrameType type, uint streamId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (payload.Length > _maxPayload)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), $"payload of {payload.Length} bytes exceeds the peer's frame limit {_maxPayload}");
        }

        // A large payload goes out as it is, after its header: copying it behind the header costs more than the extra
        // write (a guest under emulation copies slowly). A small one is copied, to leave in one write.
        var copied = payload.Length < SeparateWriteBytes;
        var length = FrameHeader.Size + (copied ? payload.Length : 0);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            new FrameHeader(payload.Length, type, streamId).Write(buffer);
            if (copied)
            {
                payload.Span.CopyTo(buffer.AsSpan(FrameHeader.Size));
            }

            await _gate.WaitAsync(cancellationToken);
            try
            {
                // Not cancellable once started: abandoning a half-written frame would corrupt the stream.
                await _stream.WriteAsync(buffer.AsMemory(0, length), CancellationToken.None);
                if (!copied)
                {
                    await _stream.WriteAsync(payload, CancellationToken.None);
                }

                await _stream.FlushAsync(CancellationToken.None);
            }
            catch (IOException ex)
            {
                throw new WireProtocolException("connection to the peer failed: " + ex.Message, ex);
            }
            catch (ObjectDisposedException ex)
            {
                throw new WireProtocolException("connection to the peer is closed", ex);
            }
            finally
            {
                _gate.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
