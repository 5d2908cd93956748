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
    private readonly bool _payloadsInPlace;
    private readonly SemaphoreSlim _gate;

    /// <param name="stream">The connection.</param>
    /// <param name="maxPayload">The peer's frame limit.</param>
    /// <param name="payloadsInPlace">
    /// Write a large payload from the caller's memory, after its header, instead of copying it behind the header. Only
    /// for callers that leave the payload unchanged until <see cref="WriteAsync"/> completes and never abandon a write:
    /// the guest agent, where a copy costs most (TCG copies slowly). The host copies: it may stop waiting for a stdin
    /// write and reuse that buffer.
    /// </param>
    public FrameWriter(Stream stream, int maxPayload, bool payloadsInPlace = false)
        : this(stream, maxPayload, payloadsInPlace, new SemaphoreSlim(1, 1))
    {
    }

    private FrameWriter(Stream stream, int maxPayload, bool payloadsInPlace, SemaphoreSlim gate)
    {
        _stream = stream;
        _maxPayload = maxPayload;
        _payloadsInPlace = payloadsInPlace;
        _gate = gate;
    }

    /// <summary>
    /// A writer on the same connection for a peer whose frame limit is <paramref name="maxPayload"/> (known once its
    /// hello arrived). It shares this writer's gate: a caller still holding this one (a frame already on its way when
    /// a new peer said hello) and callers of the new one never interleave their frames on the stream.
    /// </summary>
    public FrameWriter ForPeer(int maxPayload) => new(_stream, maxPayload, _payloadsInPlace, _gate);

    public async Task WriteAsync(FrameType type, uint streamId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (payload.Length > _maxPayload)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), $"payload of {payload.Length} bytes exceeds the peer's frame limit {_maxPayload}");
        }

        // In place, a large payload goes out as it is after its header: copying it costs more than the extra write. A
        // small one is copied, to leave in one write.
        var copied = !_payloadsInPlace || payload.Length < SeparateWriteBytes;
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
