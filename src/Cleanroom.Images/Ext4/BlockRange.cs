namespace Cleanroom.Images.Ext4;

/// <summary>A run of <see cref="Count"/> blocks starting at block <see cref="Start"/>.</summary>
internal readonly record struct BlockRange(long Start, long Count)
{
    /// <summary>The first block after the run.</summary>
    public long End => Start + Count;
}

/// <summary>One extent: <see cref="Length"/> blocks of a file from logical block <see cref="Logical"/> at <see cref="Physical"/>.</summary>
internal readonly record struct Extent(uint Logical, long Physical, int Length);
