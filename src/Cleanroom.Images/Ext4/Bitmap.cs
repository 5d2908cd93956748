namespace Cleanroom.Images.Ext4;

/// <summary>Bit runs in an ext4 bitmap block (bit n is bit n % 8 of byte n / 8).</summary>
internal static class Bitmap
{
    /// <summary>Sets <paramref name="count"/> bits from bit <paramref name="first"/>, whole bytes at a time where possible.</summary>
    public static void Set(Span<byte> bitmap, int first, int count)
    {
        var bit = first;
        var end = first + count;
        while (bit < end && (bit & 7) != 0)
        {
            bitmap[bit >> 3] |= (byte)(1 << (bit & 7));
            bit++;
        }

        var wholeBytes = (end - bit) >> 3;
        bitmap.Slice(bit >> 3, wholeBytes).Fill(0xFF);
        bit += wholeBytes << 3;
        while (bit < end)
        {
            bitmap[bit >> 3] |= (byte)(1 << (bit & 7));
            bit++;
        }
    }
}
