using System.Diagnostics;

namespace Cleanroom.Gateway.Bench;

/// <summary>The client side: the same code measures both servers.</summary>
internal static class Load
{
    public sealed record SmallRun(double RequestsPerSecond, double P50Ms, double P99Ms);

    public static async Task FetchAllAsync(HttpClient client, Uri baseUri, IReadOnlyList<string> names, int concurrency) =>
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (name, ct) => await FetchAsync(client, new Uri(baseUri, name), ct));

    public static async Task<double> DownloadMegabytesPerSecondAsync(HttpClient client, Uri uri)
    {
        var clock = Stopwatch.StartNew();
        var bytes = await FetchAsync(client, uri, CancellationToken.None);
        return bytes / 1_000_000.0 / clock.Elapsed.TotalSeconds;
    }

    public static async Task<SmallRun> FetchSmallAsync(HttpClient client, Uri baseUri, IReadOnlyList<string> names, int concurrency)
    {
        var latencies = new double[names.Count];
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Count), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, ct) =>
        {
            var one = Stopwatch.StartNew();
            await FetchAsync(client, new Uri(baseUri, names[i]), ct);
            latencies[i] = one.Elapsed.TotalMilliseconds;
        });
        var elapsed = clock.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return new SmallRun(names.Count / elapsed, latencies[latencies.Length / 2], latencies[(int)(latencies.Length * 0.99)]);
    }

    private static async Task<long> FetchAsync(HttpClient client, Uri uri, CancellationToken ct)
    {
        using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{uri}: {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            total += read;
        }

        return total;
    }
}
