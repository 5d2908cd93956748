using System.Buffers;

namespace Cleanroom.Guest.Wire.Guest;

/// <summary>
/// Output a stream sent that its host has not acknowledged yet, kept so a host that takes the stream over after a
/// restart gets again what the old host may have lost. The host acknowledges by granting window, which it does only
/// once the bytes are stored, so the bytes kept never exceed the window the host granted: they are bounded by the
/// host's initial window (the daemon's is 4 MiB), and are usually the last frame or two. A piece handed over with
/// <see cref="Keep"/> may sit in a larger array; the agent's output pump hands over only arrays at least half full,
/// so the memory held is at most twice that. Such an array can go back to its pool once the last piece in it is
/// acknowledged (<c>Keep</c>'s <c>rented</c>): the pump then reads into the same few arrays instead of allocating one
/// per frame, which under TCG cost the agent a garbage collection every few megabytes. Positions count stdout and
/// stderr bytes together, in the order they were sent.
/// </summary>
public sealed class UnacknowledgedOutput
{
    private readonly Queue<(OutputStreamKind Kind, ReadOnlyMemory<byte> Data, byte[]? Rented)> _pieces = new();
    private readonly ArrayPool<byte> _pool;

    // Bytes of the first piece that are acknowledged already.
    private int _headSkip;

    /// <summary>Keeps output; arrays handed over as rented go back to <paramref name="pool"/> (the shared pool by default).</summary>
    public UnacknowledgedOutput(ArrayPool<byte>? pool = null) => _pool = pool ?? ArrayPool<byte>.Shared;

    /// <summary>Every output byte ever sent on this stream.</summary>
    public long Sent { get; private set; }

    /// <summary>Bytes the host acknowledged: everything before this position is gone from here.</summary>
    public long Acknowledged { get; private set; }

    /// <summary>Bytes kept: sent and not acknowledged.</summary>
    public long Kept => Sent - Acknowledged;

    /// <summary>Keeps a copy of bytes about to be sent.</summary>
    public void Add(OutputStreamKind kind, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        // Not zeroed first: the copy fills every byte.
        var copy = GC.AllocateUninitializedArray<byte>(data.Length);
        data.CopyTo(copy);
        Keep(kind, copy);
    }

    /// <summary>
    /// Keeps bytes about to be sent as they are: the caller has handed them over and never writes them again. With
    /// <paramref name="rented"/> (the array they lie in, from this instance's pool) this is the last piece kept from that
    /// array, and the array returns to the pool when the piece is acknowledged. Its bytes must have been written to the
    /// host by then; a host acknowledges only what it stored, so that holds unless the host claims bytes it never got.
    /// </summary>
    public void Keep(OutputStreamKind kind, ReadOnlyMemory<byte> data, byte[]? rented = null)
    {
        if (data.IsEmpty)
        {
            if (rented is not null)
            {
                _pool.Return(rented);
            }

            return;
        }

        _pieces.Enqueue((kind, data, rented));
        Sent += data.Length;
    }

    /// <summary>
    /// Drops bytes up to position <paramref name="position"/>; returns false (and drops nothing) when that position is
    /// before what was already dropped or after what was sent: the host claims bytes it cannot have.
    /// </summary>
    public bool AcknowledgeTo(long position)
    {
        if (position < Acknowledged || position > Sent)
        {
            return false;
        }

        var drop = position - Acknowledged;
        while (drop > 0)
        {
            var (_, head, rented) = _pieces.Peek();
            var left = head.Length - _headSkip;
            if (drop >= left)
            {
                _pieces.Dequeue();
                _headSkip = 0;
                if (rented is not null)
                {
                    _pool.Return(rented);
                }

                drop -= left;
            }
            else
            {
                _headSkip += (int)drop;
                drop = 0;
            }
        }

        Acknowledged = position;
        return true;
    }

    /// <summary>Window granted by the host acknowledges that many more bytes; a grant beyond what was sent is ignored past it.</summary>
    public void Acknowledge(long bytes) => AcknowledgeTo(Math.Min(Sent, Acknowledged + bytes));

    /// <summary>The kept bytes in order, as (stream, bytes) pieces.</summary>
    public IReadOnlyList<(OutputStreamKind Kind, ReadOnlyMemory<byte> Data)> Snapshot()
    {
        var pieces = new List<(OutputStreamKind, ReadOnlyMemory<byte>)>(_pieces.Count);
        var first = true;
        foreach (var (kind, data, _) in _pieces)
        {
            pieces.Add((kind, data[(first ? _headSkip : 0)..]));
            first = false;
        }

        return pieces;
    }
}
