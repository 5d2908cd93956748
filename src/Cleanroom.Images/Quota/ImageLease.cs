using Cleanroom.Oci;

namespace Cleanroom.Images.Quota;

/// <summary>
/// A hold on a stored image: while any lease on it is open, neither <c>image rm</c>, <c>image prune</c> nor eviction
/// removes it. Whoever boots a sandbox from an image holds one for as long as the sandbox may use the file.
/// Disposing releases it; a second dispose does nothing.
/// </summary>
public sealed class ImageLease : IDisposable
{
    private readonly ImageLeases _owner;
    private int _released;

    internal ImageLease(ImageLeases owner, Digest digest)
    {
        _owner = owner;
        Digest = digest;
    }

    public Digest Digest { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _owner.Release(Digest);
        }
    }
}
