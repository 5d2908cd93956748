namespace Cleanroom.Images.Layers;

/// <summary>The image's running totals against its <see cref="LayerLimits"/>; shared by all layers of one image.</summary>
internal sealed class UnpackBudget(LayerLimits limits)
{
    public long Bytes { get; private set; }

    public long Entries { get; private set; }

    public void CountEntry()
    {
        if (Entries >= limits.MaxEntries)
        {
            throw new EntryRejectedException(
                $"has more than {limits.MaxEntries} entries together with the layers below it (the limit for one image, LayerLimits.MaxEntries)",
                aboutLayer: true);
        }

        Entries++;
    }

    /// <summary>Refuses an entry up front when its declared size alone would break the limit, before anything is written.</summary>
    public void EnsureRoom(long declaredBytes)
    {
        if (declaredBytes > limits.MaxUnpackedBytes - Bytes)
        {
            throw TooLarge();
        }
    }

    /// <summary>Counts bytes about to be written; called per chunk, so the limit holds even if a size was not checked first.</summary>
    public void Charge(long bytes)
    {
        if (bytes > limits.MaxUnpackedBytes - Bytes)
        {
            throw TooLarge();
        }

        Bytes += bytes;
    }

    private EntryRejectedException TooLarge() => new(
        $"unpacks to more than {limits.MaxUnpackedBytes} bytes together with the layers below it (the limit for one image, configurable via the daemon's MaxImageBytes option)",
        aboutLayer: true);
}
