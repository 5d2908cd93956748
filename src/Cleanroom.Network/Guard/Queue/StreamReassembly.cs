namespace Cleanroom.Network.Guard.Queue;

/// <summary>What adding a segment's bytes to a <see cref="StreamReassembly"/> found.</summary>
internal enum ReassemblyResult
{
    /// <summary>Some of the bytes were not there before (or lie past what is stored, so cannot be compared).</summary>
    New,

    /// <summary>Every byte was there already, with the same value: a plain retransmit.</summary>
    Duplicate,

    /// <summary>A byte differs from one received before at the same place: the guest is sending two different streams.</summary>
    Conflict,
}

/// <summary>
/// The first <c>capacity</c> bytes of one direction of a TCP stream, put together from segments in any order, with
/// duplicates and overlaps. Overlapping bytes must agree: the server keeps whichever copy reaches it first, so a
/// guest that sends two versions of the same bytes could show the guard one and the server the other. Memory is
/// the capacity plus one interval per distinct segment (the caller bounds the segments).
/// </summary>
internal sealed class StreamReassembly(int capacity)
{
    private readonly List<(int Start, int End)> _covered = [];
    private byte[]? _bytes;

    /// <summary>How many bytes from the start of the stream have arrived without a gap.</summary>
    public int Contiguous => _covered.Count > 0 && _covered[0].Start == 0 ? _covered[0].End : 0;

    /// <summary>The gap-free bytes from the start.</summary>
    public ReadOnlySpan<byte> Prefix => _bytes is null ? default : _bytes.AsSpan(0, Contiguous);

    /// <summary>The distinct byte ranges stored (for tests).</summary>
    public int Ranges => _covered.Count;

    /// <summary>
    /// Compares <paramref name="data"/>, which starts <paramref name="offset"/> bytes into the stream (offset &gt;= 0),
    /// with what is stored, changing nothing.
    /// </summary>
    public ReassemblyResult Compare(long offset, ReadOnlySpan<byte> data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (data.IsEmpty)
        {
            return ReassemblyResult.Duplicate;
        }

        if (offset >= capacity || _bytes is null)
        {
            return ReassemblyResult.New;
        }

        var start = (int)offset;
        var end = (int)Math.Min(offset + data.Length, capacity);
        var covered = 0;
        foreach (var (s, e) in _covered)
        {
            var from = Math.Max(s, start);
            var to = Math.Min(e, end);
            if (from >= to)
            {
                continue;
            }

            if (!data[(from - start)..(to - start)].SequenceEqual(_bytes.AsSpan(from, to - from)))
            {
                return ReassemblyResult.Conflict;
            }

            covered += to - from;
        }

        return covered == end - start && offset + data.Length <= capacity ? ReassemblyResult.Duplicate : ReassemblyResult.New;
    }

    /// <summary>Compares (see <see cref="Compare"/>), and stores the bytes unless they conflict.</summary>
    public ReassemblyResult Add(long offset, ReadOnlySpan<byte> data)
    {
        var result = Compare(offset, data);
        if (result != ReassemblyResult.New || offset >= capacity)
        {
            return result;
        }

        var start = (int)offset;
        var end = (int)Math.Min(offset + data.Length, capacity);
        _bytes ??= new byte[capacity];
        data[..(end - start)].CopyTo(_bytes.AsSpan(start));
        Insert(start, end);
        return result;
    }

    private void Insert(int start, int end)
    {
        // Intervals are kept sorted and disjoint, with touching ones merged.
        var i = 0;
        while (i < _covered.Count && _covered[i].End < start)
        {
            i++;
        }

        while (i < _covered.Count && _covered[i].Start <= end)
        {
            start = Math.Min(start, _covered[i].Start);
            end = Math.Max(end, _covered[i].End);
            _covered.RemoveAt(i);
        }

        _covered.Insert(i, (start, end));
    }
}
