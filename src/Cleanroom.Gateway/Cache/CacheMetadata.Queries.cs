using Microsoft.Data.Sqlite;

namespace Cleanroom.Gateway.Cache;

/// <summary>The metadata's whole-cache queries: totals, listing and pruning (the point reads and writes are in the main part).</summary>
internal sealed partial class CacheMetadata
{
    private const string SelectListedEntry = """
        SELECT e.protocol, e.kind, e.key, e.digest, e.size, e.content_type, e.etag, e.upstream_status, e.stored_at, e.expires_at,
          b.last_access
        FROM entries e LEFT JOIN blobs b ON b.digest = e.digest
        """;

    private const string NewestFirst = " ORDER BY e.stored_at DESC, e.protocol, e.kind, e.key";

    /// <summary>Blob rows: count, bytes, and how many of them (and their bytes) are pinned.</summary>
    public (long Blobs, long Bytes, long PinnedBlobs, long PinnedBytes) BlobTotals()
    {
        lock (_gate)
        {
            using var command = Prepare(
                """
                SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(pin_count > 0), 0),
                  COALESCE(SUM(CASE WHEN pin_count > 0 THEN size ELSE 0 END), 0)
                FROM blobs
                """,
                []);
            using var reader = command.ExecuteReader();
            reader.Read();
            return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
        }
    }

    /// <summary>Entries per protocol, and how many are fresh or expired at <paramref name="now"/>.</summary>
    public IReadOnlyList<CacheProtocolStatistics> ProtocolTotals(DateTimeOffset now)
    {
        lock (_gate)
        {
            // Fresh exactly as Lookup decides it: immutable (no expiry), or now before the expiry.
            using var command = Prepare(
                """
                SELECT protocol, COUNT(*), SUM(size), SUM(expires_at IS NULL OR expires_at > $now)
                FROM entries GROUP BY protocol ORDER BY protocol
                """,
                [("$now", now.ToUnixTimeMilliseconds())]);
            using var reader = command.ExecuteReader();
            var list = new List<CacheProtocolStatistics>();
            while (reader.Read())
            {
                var entries = reader.GetInt64(1);
                var fresh = reader.GetInt64(3);
                list.Add(new CacheProtocolStatistics(reader.GetString(0), entries, reader.GetInt64(2), fresh, entries - fresh));
            }

            return list;
        }
    }

    /// <summary>
    /// Up to <paramref name="limit"/> entries newest first (ties by protocol, kind, key), of one protocol or all,
    /// starting after <paramref name="after"/>; and how many match in all when <paramref name="after"/> is null.
    /// </summary>
    public (List<ListedCacheEntry> Entries, long? Total) ListEntries(string? protocol, CacheEntry? after, int limit)
    {
        var filter = protocol is null ? "" : " AND e.protocol = $protocol";
        var page = after is null ? ""
            : " AND (e.stored_at < $after_stored OR (e.stored_at = $after_stored AND (e.protocol, e.kind, e.key) > ($after_protocol, $after_kind, $after_key)))";
        (string, object?)[] parameters =
        [
            ("$protocol", protocol), ("$limit", limit),
            ("$after_stored", after?.StoredAt.ToUnixTimeMilliseconds()), ("$after_protocol", after?.Key.Protocol),
            ("$after_kind", after?.Key.Kind), ("$after_key", after?.Key.Key),
        ];
        lock (_gate)
        {
            long? total = null;
            if (after is null)
            {
                using var count = Prepare("SELECT COUNT(*) FROM entries e WHERE 1 = 1" + filter, parameters);
                total = (long)count.ExecuteScalar()!;
            }

            using var command = Prepare(SelectListedEntry + " WHERE 1 = 1" + filter + page + NewestFirst + " LIMIT $limit", parameters);
            return (ReadListedEntries(command), total);
        }
    }

    /// <summary>
    /// Removes the entries <paramref name="options"/> selects and then the blobs left without an entry, in one
    /// transaction that is rolled back on a dry run (so a dry run reports exactly what a real run would remove).
    /// Pinned blobs stay. Returns what went; the caller deletes the removed blobs' files after a real run.
    /// </summary>
    /// <param name="options">What to select (validated).</param>
    /// <param name="now">The time expiry and age are measured at.</param>
    public PruneSelection Prune(CachePruneOptions options, DateTimeOffset now)
    {
        var expiredOnly = options.ExpiredOnly || options.DefaultsToExpired;
        var cutoff = options.OlderThan is { } age ? now - age : (DateTimeOffset?)null;
        var where = " WHERE 1 = 1"
            + (options.Protocol is null ? "" : " AND e.protocol = $protocol")
            + (expiredOnly ? " AND e.expires_at IS NOT NULL AND e.expires_at <= $now" : "")
            + (cutoff is null ? "" : " AND e.digest IN (SELECT digest FROM blobs WHERE last_access < $cutoff)");
        (string, object?)[] parameters =
        [
            ("$protocol", options.Protocol), ("$now", now.ToUnixTimeMilliseconds()), ("$cutoff", cutoff?.ToUnixTimeMilliseconds()),
            ("$listed", options.MaxListed),
        ];

        // Blobs that no entry has pointed at for a while are garbage too, but they belong to no protocol and were
        // never "expired": only a protocol-wide selection by everything or by age takes them.
        var takeUnreferenced = options.Protocol is null && !expiredOnly;
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            List<CacheEntry> listed;
            using (var select = Prepare(SelectListedEntry + where + NewestFirst + " LIMIT $listed", parameters))
            {
                select.Transaction = transaction;
                listed = [.. ReadListedEntries(select).Select(l => l.Entry)];
            }

            long removedEntries = 0;
            var touched = new HashSet<string>(StringComparer.Ordinal);
            using (var delete = Prepare("DELETE FROM entries AS e" + where + " RETURNING digest", parameters))
            {
                delete.Transaction = transaction;
                using var reader = delete.ExecuteReader();
                while (reader.Read())
                {
                    removedEntries++;
                    touched.Add(reader.GetString(0));
                }
            }

            var candidates = new List<(string Digest, long Size, bool Pinned)>();
            var orphanSql = "SELECT digest, size, pin_count > 0 FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM entries x WHERE x.digest = b.digest)"
                + (takeUnreferenced && cutoff is not null ? " AND last_access < $cutoff" : "");
            using (var orphans = Prepare(orphanSql, parameters))
            {
                orphans.Transaction = transaction;
                using var reader = orphans.ExecuteReader();
                while (reader.Read())
                {
                    var digest = reader.GetString(0);
                    if (takeUnreferenced || touched.Contains(digest))
                    {
                        candidates.Add((digest, reader.GetInt64(1), reader.GetBoolean(2)));
                    }
                }
            }

            var removed = new List<(BlobDigest Digest, long Size)>();
            long kept = 0;
            using (var deleteBlob = Prepare("DELETE FROM blobs WHERE digest = $digest", [("$digest", "")]))
            {
                deleteBlob.Transaction = transaction;
                foreach (var (digest, size, pinned) in candidates)
                {
                    if (pinned)
                    {
                        kept++;
                        continue;
                    }

                    deleteBlob.Parameters["$digest"].Value = digest;
                    deleteBlob.ExecuteNonQuery();
                    removed.Add((BlobDigest.Parse(digest), size));
                }
            }

            if (options.DryRun)
            {
                transaction.Rollback();
            }
            else
            {
                transaction.Commit();
            }

            return new PruneSelection(listed, removedEntries, removed, kept);
        }
    }

    private static List<ListedCacheEntry> ReadListedEntries(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var list = new List<ListedCacheEntry>();
        while (reader.Read())
        {
            var entry = new CacheEntry
            {
                Key = new CacheKey(reader.GetString(0), reader.GetString(1), reader.GetString(2)),
                Digest = BlobDigest.Parse(reader.GetString(3)),
                Size = reader.GetInt64(4),
                ContentType = reader.GetString(5),
                ETag = reader.GetString(6),
                UpstreamStatus = reader.GetInt32(7),
                StoredAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)),
                ExpiresAt = reader.IsDBNull(9) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
            };
            list.Add(new ListedCacheEntry(entry, reader.IsDBNull(10) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10))));
        }

        return list;
    }
}
