namespace CacheEvictionBench;

/// <summary>One request in a trace: which object and how big it is.</summary>
internal readonly record struct Request(long Key, long Size);

/// <summary>
/// A seeded synthetic CI fetch trace. A catalogue of popular objects (packages, modules, base-image layers) is
/// requested with Zipf-distributed popularity; sizes are independent of popularity and mostly small (80% 1 KB–1 MB,
/// 17% 1–10 MB, 3% 10–50 MB, log-uniform within each band). Mixed in, optionally: one-hit wonders (artifacts fetched
/// once) and, at intervals, a one-off image pull whose layers (5–50 MB each) are never requested again: the scans
/// that flush an LRU cache.
/// </summary>
internal sealed class FetchTrace
{
    private const long KiB = 1024;
    private const long MiB = 1024 * KiB;

    private readonly long[] _sizes;
    private readonly double[] _cumulative;

    /// <param name="catalogue">Popular objects.</param>
    /// <param name="zipfAlpha">Skew of their popularity.</param>
    /// <param name="seed">Seeds sizes and the request sequence.</param>
    public FetchTrace(int catalogue, double zipfAlpha, int seed)
    {
        var random = new Random(seed);
        _sizes = new long[catalogue];
        for (var i = 0; i < catalogue; i++)
        {
            _sizes[i] = ObjectSize(random);
        }

        _cumulative = new double[catalogue];
        var sum = 0.0;
        for (var rank = 0; rank < catalogue; rank++)
        {
            sum += 1.0 / Math.Pow(rank + 1, zipfAlpha);
            _cumulative[rank] = sum;
        }

        for (var rank = 0; rank < catalogue; rank++)
        {
            _cumulative[rank] /= sum;
        }

        Seed = seed;
    }

    /// <summary>The seed of the request sequence.</summary>
    public int Seed { get; }

    /// <summary>Bytes of the whole popular catalogue (what a cache would need to hold all of it).</summary>
    public long CatalogueBytes => _sizes.Sum();

    /// <summary>Mean size of a catalogue object.</summary>
    public double MeanObjectBytes => _sizes.Average();

    /// <summary>The requests, generated afresh (same seed, same sequence) for each replay.</summary>
    /// <param name="count">Requests, scans included.</param>
    /// <param name="oneHitShare">Share of non-scan requests that are one-hit wonders.</param>
    /// <param name="scanEvery">A one-off image pull after every this many requests; 0 for none.</param>
    /// <param name="scanLayers">Layers per image pull.</param>
    public IEnumerable<Request> Requests(int count, double oneHitShare, int scanEvery, int scanLayers)
    {
        var random = new Random(Seed ^ 0x5eed);
        var nextUnique = (long)_sizes.Length;
        for (var i = 0; i < count; i++)
        {
            if (scanEvery > 0 && i > 0 && i % scanEvery == 0)
            {
                for (var layer = 0; layer < scanLayers; layer++)
                {
                    yield return new Request(nextUnique++, LogUniform(random, 5 * MiB, 50 * MiB));
                }
            }

            if (random.NextDouble() < oneHitShare)
            {
                yield return new Request(nextUnique++, ObjectSize(random));
                continue;
            }

            var rank = Array.BinarySearch(_cumulative, random.NextDouble());
            rank = rank < 0 ? ~rank : rank;
            rank = Math.Min(rank, _sizes.Length - 1);
            yield return new Request(rank, _sizes[rank]);
        }
    }

    private static long ObjectSize(Random random)
    {
        var band = random.NextDouble();
        return band < 0.80 ? LogUniform(random, 1 * KiB, 1 * MiB)
            : band < 0.97 ? LogUniform(random, 1 * MiB, 10 * MiB)
            : LogUniform(random, 10 * MiB, 50 * MiB);
    }

    private static long LogUniform(Random random, long min, long max) =>
        (long)Math.Exp(Math.Log(min) + (random.NextDouble() * (Math.Log(max) - Math.Log(min))));
}
