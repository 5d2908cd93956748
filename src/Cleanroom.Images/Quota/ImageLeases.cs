using Cleanroom.Oci;

namespace Cleanroom.Images.Quota;

/// <summary>How many open leases each image has. Thread-safe; the image manager takes leases under its own lock so
/// that "is it stored" and "lease it" (or "is it leased" and "delete it") are one step.</summary>
internal sealed class ImageLeases
{
    private readonly Dictionary<Digest, int> _counts = [];
    private readonly Lock _gate = new();

    public ImageLease Acquire(Digest digest)
    {
        lock (_gate)
        {
            _counts[digest] = _counts.GetValueOrDefault(digest) + 1;
        }

        return new ImageLease(this, digest);
    }

    /// <summary>Open leases on <paramref name="digest"/>; 0 when none.</summary>
    public int Count(Digest digest)
    {
        lock (_gate)
        {
            return _counts.GetValueOrDefault(digest);
        }
    }

    internal void Release(Digest digest)
    {
        lock (_gate)
        {
            var left = _counts.GetValueOrDefault(digest) - 1;
            if (left > 0)
            {
                _counts[digest] = left;
            }
            else
            {
                _counts.Remove(digest);
            }
        }
    }
}
