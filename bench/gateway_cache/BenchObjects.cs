namespace Cleanroom.Gateway.Bench;

/// <summary>The bytes both servers serve: one large object and many small ones, written once from a seed.</summary>
internal sealed record BenchObjects(IReadOnlyList<string> Small, long SmallBytes)
{
    public const string LargeName = "large.bin";
    public const long LargeBytes = 100_000_000;
    private const int SmallCount = 1_000;

    /// <summary>Writes the objects into <paramref name="directory"/>; sizes of the small ones are 1-64 KiB, skewed small.</summary>
    public static BenchObjects Write(string directory, int seed)
    {
        var random = new Random(seed);
        var buffer = new byte[1 << 20];
        using (var large = File.Create(Path.Combine(directory, LargeName)))
        {
            for (long written = 0; written < LargeBytes; written += buffer.Length)
            {
                random.NextBytes(buffer);
                large.Write(buffer, 0, (int)Math.Min(buffer.Length, LargeBytes - written));
            }
        }

        var names = new List<string>();
        long total = 0;
        for (var i = 0; i < SmallCount; i++)
        {
            // Squaring a uniform value skews towards small sizes, as package files are.
            var size = 1024 + (int)(Math.Pow(random.NextDouble(), 2) * 63 * 1024);
            var name = $"pkg-{i:D4}.tgz";
            random.NextBytes(buffer.AsSpan(0, size));
            File.WriteAllBytes(Path.Combine(directory, name), buffer[..size]);
            names.Add(name);
            total += size;
        }

        return new BenchObjects(names, total);
    }
}
