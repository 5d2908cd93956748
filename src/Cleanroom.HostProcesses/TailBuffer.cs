namespace Cleanroom.HostProcesses;

/// <summary>Keeps the last <c>capacity</c> bytes written to it (a ring). Not thread-safe; callers lock.</summary>
public sealed class TailBuffer(int capacity)
{
    private readonly byte[] _ring = new byte[capacity];
    private int _start;
    private int _count;

    public long TotalWritten { get; private set; }

    public void Write(ReadOnlySpan<byte> data)
    {
        TotalWritten += data.Length;
        if (data.Length >= _ring.Length)
        {
            data[^_ring.Length..].CopyTo(_ring);
            _start = 0;
            _count = _ring.Length;
            return;
        }

        var end = (_start + _count) % _ring.Length;
        var first = Math.Min(data.Length, _ring.Length - end);
        data[..first].CopyTo(_ring.AsSpan(end));
        data[first..].CopyTo(_ring);
        var overflow = _count + data.Length - _ring.Length;
        if (overflow > 0)
        {
            _start = (_start + overflow) % _ring.Length;
            _count = _ring.Length;
        }
        else
        {
            _count += data.Length;
        }
    }

    public byte[] ToArray()
    {
        var result = new byte[_count];
        var first = Math.Min(_count, _ring.Length - _start);
        _ring.AsSpan(_start, first).CopyTo(result);
        _ring.AsSpan(0, _count - first).CopyTo(result.AsSpan(first));
        return result;
    }
}
