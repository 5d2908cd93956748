namespace Cleanroom.Images.Quota;

/// <summary>
/// Hands out the times images are used, strictly increasing at the store's millisecond precision: two uses within one
/// millisecond still get distinct, ordered times, so least-recently-used order is the order the uses happened in.
/// </summary>
internal sealed class UseClock(TimeProvider time)
{
    private readonly Lock _gate = new();
    private long _last;

    public DateTimeOffset Next()
    {
        lock (_gate)
        {
            _last = Math.Max(time.GetUtcNow().ToUnixTimeMilliseconds(), _last + 1);
            return DateTimeOffset.FromUnixTimeMilliseconds(_last);
        }
    }
}
