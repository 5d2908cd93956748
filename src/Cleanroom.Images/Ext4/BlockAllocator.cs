namespace Cleanroom.Images.Ext4;

/// <summary>
/// Hands out blocks from a cursor that only moves forward, stepping over the superblock/descriptor copies. Sequential
/// allocation keeps files contiguous and makes "free blocks" a subtraction; every block handed out is remembered as a
/// merged run so the block bitmaps can be built at the end.
/// </summary>
internal sealed class BlockAllocator
{
    private readonly long _blockCount;
    private readonly IReadOnlyList<BlockRange> _reserved;
    private readonly List<BlockRange> _used = [];
    private Position _position;

    public BlockAllocator(long blockCount, IReadOnlyList<BlockRange> reserved)
    {
        _blockCount = blockCount;
        _reserved = reserved;
        var reservedBlocks = 0L;
        foreach (var range in reserved)
        {
            reservedBlocks += range.Count;
        }

        _position = Skip(new Position(0, 0, reservedBlocks));
    }

    /// <summary>Blocks that can still be handed out.</summary>
    public long FreeBlocks => _blockCount - _position.Cursor - _position.ReservedAhead;

    /// <summary>Every run handed out so far, in block order, adjacent runs merged.</summary>
    public IReadOnlyList<BlockRange> Used => _used;

    /// <summary><paramref name="count"/> contiguous blocks (an inode table), or -1 when they do not fit.</summary>
    public long AllocateContiguous(int count)
    {
        var position = Skip(_position);
        while (position.Next < _reserved.Count && position.Cursor + count > _reserved[position.Next].Start)
        {
            // The run would overlap a backup: leave the gap before it unused (it stays free in the bitmap).
            var range = _reserved[position.Next];
            position = Skip(new Position(range.Start, position.Next, position.ReservedAhead));
        }

        if (position.Cursor + count > _blockCount)
        {
            return -1;
        }

        var start = position.Cursor;
        MarkUsed(start, count);
        _position = position with { Cursor = start + count };
        return start;
    }

    /// <summary>
    /// Allocates <paramref name="count"/> blocks as extents of at most <paramref name="maxExtent"/> blocks, numbered from
    /// logical block <paramref name="firstLogical"/>, split around reserved ranges. The caller checks
    /// <see cref="FreeBlocks"/> first; this never fails for a count within it.
    /// </summary>
    public void Allocate(long count, int maxExtent, uint firstLogical, List<Extent> extents)
    {
        if (count > FreeBlocks)
        {
            throw new InvalidOperationException($"Allocating {count} blocks with only {FreeBlocks} free.");
        }

        var logical = firstLogical;
        var position = _position;
        while (count > 0)
        {
            position = Skip(position);
            var limit = position.Next < _reserved.Count ? _reserved[position.Next].Start : _blockCount;
            var run = (int)Math.Min(Math.Min(count, limit - position.Cursor), maxExtent);
            extents.Add(new Extent(logical, position.Cursor, run));
            MarkUsed(position.Cursor, run);
            position = position with { Cursor = position.Cursor + run };
            logical += (uint)run;
            count -= run;
        }

        _position = position;
    }

    /// <summary>How many extents <see cref="Allocate"/> would produce for <paramref name="count"/> blocks right now.</summary>
    public long CountExtents(long count, int maxExtent)
    {
        var extents = 0L;
        var position = _position;
        while (count > 0 && position.Cursor < _blockCount)
        {
            position = Skip(position);
            var limit = position.Next < _reserved.Count ? _reserved[position.Next].Start : _blockCount;
            var run = Math.Min(Math.Min(count, limit - position.Cursor), maxExtent);
            extents++;
            position = position with { Cursor = position.Cursor + run };
            count -= run;
        }

        return extents;
    }

    private void MarkUsed(long start, long count)
    {
        if (_used.Count > 0 && _used[^1].End == start)
        {
            _used[^1] = _used[^1] with { Count = _used[^1].Count + count };
        }
        else
        {
            _used.Add(new BlockRange(start, count));
        }
    }

    /// <summary>Moves a cursor that sits at (or in) a reserved range past it, and past any that follow directly.</summary>
    private Position Skip(Position position)
    {
        while (position.Next < _reserved.Count && _reserved[position.Next].Start <= position.Cursor)
        {
            var range = _reserved[position.Next];
            position = new Position(Math.Max(position.Cursor, range.End), position.Next + 1, position.ReservedAhead - range.Count);
        }

        return position;
    }

    /// <param name="Cursor">The next block to hand out.</param>
    /// <param name="Next">Index of the first reserved range not yet passed.</param>
    /// <param name="ReservedAhead">Reserved blocks at or after the cursor.</param>
    private readonly record struct Position(long Cursor, int Next, long ReservedAhead);
}
