using System.Globalization;
using Cleanroom.Api.V1;
using Cleanroom.Escaping;

namespace Cleanroom.Cli.Rendering;

/// <summary>How <c>cache stats</c>, <c>cache ls</c> and <c>cache prune</c> read.</summary>
internal static class CacheViews
{
    public static readonly IReadOnlyList<string> EntryHeaders = ["PROTOCOL", "KIND", "KEY", "SIZE", "STORED", "EXPIRES"];

    public static readonly IReadOnlyList<string> ProtocolHeaders = ["PROTOCOL", "ENTRIES", "SIZE", "FRESH", "EXPIRED"];

    public static readonly IReadOnlyList<string> RouteHeaders = ["ROUTE", "HITS", "MISSES", "STALE", "BYPASSED", "REFUSED", "ERRORS", "SERVED"];

    /// <summary>Repository mirrors: a different kind of thing from cache entries, so a table of their own.</summary>
    public static readonly IReadOnlyList<string> MirrorHeaders = ["MIRROR", "SIZE", "LAST USED", "LAST FETCHED"];

    /// <summary>Longest key shown in a table cell; the rest is cut, saying how much.</summary>
    public const int TableKeyLength = 80;

    /// <summary>Longest key shown on a prune line.</summary>
    public const int LineKeyLength = 200;

    /// <summary><c>key: value</c> lines for the totals, then a table per protocol and one per gateway route.</summary>
    public static void WriteStats(TextWriter output, OutputStyle style, GetCacheStatsResponse stats)
    {
        var percent = stats.MaxBytes > 0 ? (double)stats.UsedBytes / stats.MaxBytes * 100 : 0;
        KeyValueWriter.Write(output,
        [
            ("directory", stats.Directory),
            ("used", $"{ApiText.Bytes(stats.UsedBytes)} of {ApiText.Bytes(stats.MaxBytes)} ({percent.ToString(percent is > 0 and < 1 ? "0.#" : "0", CultureInfo.InvariantCulture)}%)"),
            ("blobs", Number(stats.Blobs)),
            ("entries", Number(stats.Entries)),
            ("pinned", $"{Count(stats.PinnedBlobs, "blob")}, {ApiText.Bytes(stats.PinnedBytes)}"),
            ("eviction", stats.EvictionPolicy),
            ("max_object", ApiText.Bytes(stats.MaxObjectBytes)),
            ("gateway", stats.GatewayRunning ? "running" : "not running"),
        ]);
        if (stats.MirrorDirectory.Length > 0)
        {
            // The repository store's mirrors: outside the cache's budget, with one of their own.
            var maxAge = stats.MirrorMaxAge?.ToTimeSpan() ?? TimeSpan.Zero;
            KeyValueWriter.Write(output,
            [
                ("mirror_directory", stats.MirrorDirectory),
                ("mirrors", $"{Count(stats.Mirrors, "repository", "repositories")}, {ApiText.Bytes(stats.MirrorBytes)}"),
                ("mirror_budget", $"{ApiText.Bytes(stats.MirrorMaxBytes)}, unused for {Number((long)maxAge.TotalDays)} days"),
            ]);
        }

        if (stats.Protocols.Count > 0)
        {
            output.WriteLine();
            TableWriter.Write(output, style, ProtocolHeaders, [.. stats.Protocols.Select(p => (IReadOnlyList<Cell>)
            [
                UntrustedText.Escape(p.Protocol, 32), Number(p.Entries), ApiText.Bytes(p.Bytes), Number(p.FreshEntries), Number(p.ExpiredEntries),
            ])]);
        }

        if (stats.Routes.Count > 0)
        {
            output.WriteLine();
            TableWriter.Write(output, style, RouteHeaders, [.. stats.Routes.Select(r => (IReadOnlyList<Cell>)
            [
                UntrustedText.Escape(r.Route, 32), Number(r.Hits), Number(r.Misses), Number(r.StaleServed), Number(r.Bypassed),
                Number(r.Refused), Number(r.UpstreamErrors), ApiText.Bytes(r.BytesServed),
            ])]);
        }
    }

    /// <summary>A table of entries; keys came from guests and upstreams, so every text cell is escaped and cut.</summary>
    public static void WriteEntries(TextWriter output, OutputStyle style, IEnumerable<CacheEntrySummary> entries, DateTimeOffset now)
    {
        var rows = entries
            .Select(e => (IReadOnlyList<Cell>)
            [
                UntrustedText.Escape(e.Protocol, 32),
                UntrustedText.Escape(e.Kind, 32),
                UntrustedText.Escape(e.Key, TableKeyLength),
                ApiText.Bytes(e.SizeBytes),
                ApiText.Ago(e.StoredAt, now),
                Expires(e, now),
            ])
            .ToList();
        TableWriter.Write(output, style, EntryHeaders, rows);
    }

    /// <summary>
    /// A table of repository mirrors, most recently used first; URLs were typed by users (or are keys when a mirror's
    /// record is unreadable), so they are escaped and cut like keys.
    /// </summary>
    public static void WriteMirrors(TextWriter output, OutputStyle style, IEnumerable<RepositoryMirrorSummary> mirrors, DateTimeOffset now)
    {
        var rows = mirrors
            .Select(m => (IReadOnlyList<Cell>)
            [
                UntrustedText.Escape(m.Url, TableKeyLength),
                ApiText.Bytes(m.SizeBytes),
                ApiText.Ago(m.LastUseAt, now),
                m.LastFetchAt is null ? "unknown" : ApiText.Ago(m.LastFetchAt, now),
            ])
            .ToList();
        TableWriter.Write(output, style, MirrorHeaders, rows);
    }

    /// <summary>
    /// One <c>removed PROTOCOL KIND KEY (SIZE)</c> line per listed entry (<c>would remove</c> on a dry run), how many
    /// more went unlisted, then a summary with the counts and the bytes freed.
    /// </summary>
    public static void WritePruneResult(TextWriter output, PruneCacheResponse response)
    {
        if (response.RemovedEntries == 0 && response.RemovedBlobs == 0 && response.RemovedMirrors.Count == 0)
        {
            output.WriteLine(response.DefaultedToExpired ? "no expired entries" : "nothing to prune");
            WritePinned(output, response);
            return;
        }

        var verb = response.DryRun ? "would remove" : "removed";
        foreach (var entry in response.Removed)
        {
            output.WriteLine($"{verb} {UntrustedText.Escape(entry.Protocol, 32)} {UntrustedText.Escape(entry.Kind, 32)} {UntrustedText.Escape(entry.Key, LineKeyLength)} ({ApiText.Bytes(entry.SizeBytes)})");
        }

        if (response.RemovedEntries > response.Removed.Count)
        {
            output.WriteLine($"… and {Count(response.RemovedEntries - response.Removed.Count, "more entry", "more entries")}");
        }

        foreach (var mirror in response.RemovedMirrors)
        {
            output.WriteLine($"{verb} mirror {UntrustedText.Escape(mirror.Url, LineKeyLength)} ({ApiText.Bytes(mirror.SizeBytes)})");
        }

        var what = $"{Count(response.RemovedEntries, "entry", "entries")} and {Count(response.RemovedBlobs, "blob")}";
        var freed = response.FreedBytes;
        if (response.RemovedMirrors.Count > 0)
        {
            what += $" and {Count(response.RemovedMirrors.Count, "mirror")}";
            freed += response.FreedMirrorBytes;
        }

        output.WriteLine(response.DryRun
            ? $"would prune {what}, freeing {ApiText.Bytes(freed)}"
            : $"pruned {what}, freed {ApiText.Bytes(freed)}");
        WritePinned(output, response);
    }

    /// <summary>When a mutable entry stops being fresh: "in 4 minutes", "expired 2 hours ago", or "never".</summary>
    public static string Expires(CacheEntrySummary entry, DateTimeOffset now)
    {
        if (entry.Immutable || entry.ExpiresAt is null)
        {
            return "never";
        }

        var left = entry.ExpiresAt.ToDateTimeOffset() - now;
        if (left <= TimeSpan.Zero)
        {
            return "expired " + ApiText.Ago(entry.ExpiresAt, now);
        }

        return left switch
        {
            { TotalMinutes: < 1 } => "in " + Count((long)Math.Ceiling(left.TotalSeconds), "second"),
            { TotalHours: < 1 } => "in " + Count((long)left.TotalMinutes, "minute"),
            { TotalDays: < 1 } => "in " + Count((long)left.TotalHours, "hour"),
            _ => "in " + Count((long)left.TotalDays, "day"),
        };
    }

    private static void WritePinned(TextWriter output, PruneCacheResponse response)
    {
        if (response.KeptPinnedBlobs > 0)
        {
            output.WriteLine($"kept {Count(response.KeptPinnedBlobs, "pinned blob")} (in use; pruned once released)");
        }
    }

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Count(long n, string one, string? many = null) =>
        n == 1 ? "1 " + one : string.Create(CultureInfo.InvariantCulture, $"{n} {many ?? one + "s"}");

}
