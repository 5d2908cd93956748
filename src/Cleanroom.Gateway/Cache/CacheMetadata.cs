using Microsoft.Data.Sqlite;

namespace Cleanroom.Gateway.Cache;

/// <summary>
/// The cache's metadata in one SQLite file: a row per blob (size, times, pins) and a row per key
/// (<c>protocol|kind|key</c> → digest, content type, ETag, expiry, upstream status). One connection serialised by a
/// gate, as in the daemon's state store: every statement is a point read or write, far from contention. Entries are
/// removed with their blob, so a lookup never answers with a digest the store has evicted.
/// </summary>
internal sealed partial class CacheMetadata : IDisposable
{
    private const string Schema = """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        PRAGMA busy_timeout = 5000;
        CREATE TABLE IF NOT EXISTS blobs (
          digest TEXT PRIMARY KEY,
          size INTEGER NOT NULL,
          created_at INTEGER NOT NULL,
          last_access INTEGER NOT NULL,
          pin_count INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS entries (
          protocol TEXT NOT NULL,
          kind TEXT NOT NULL,
          key TEXT NOT NULL,
          digest TEXT NOT NULL,
          size INTEGER NOT NULL,
          content_type TEXT NOT NULL,
          etag TEXT NOT NULL,
          upstream_status INTEGER NOT NULL,
          stored_at INTEGER NOT NULL,
          expires_at INTEGER,
          PRIMARY KEY (protocol, kind, key)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS entries_by_digest ON entries (digest);
        CREATE INDEX IF NOT EXISTS entries_by_stored_at ON entries (stored_at);
        """;

    private const string SelectBlob = """
        SELECT digest, size, created_at, last_access, pin_count,
          (SELECT COUNT(*) FROM entries e WHERE e.digest = b.digest)
        FROM blobs b
        """;

    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    /// <param name="databasePath">The SQLite file (created if missing).</param>
    public CacheMetadata(string databasePath)
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        _connection.Open();
        Execute(Schema);
    }

    /// <summary>Adds a blob's row, or touches it when present.</summary>
    public void RecordBlob(BlobDigest digest, long size, DateTimeOffset now) => Execute(
        """
        INSERT INTO blobs (digest, size, created_at, last_access) VALUES ($digest, $size, $now, $now)
        ON CONFLICT(digest) DO UPDATE SET last_access = $now
        """,
        ("$digest", digest.Hex), ("$size", size), ("$now", now.ToUnixTimeMilliseconds()));

    /// <summary>
    /// Moves blobs' last access forward to the given times, in one transaction (a blob stored again meanwhile keeps
    /// its later time; rows that are gone are skipped).
    /// </summary>
    public void TouchBlobs(IReadOnlyCollection<KeyValuePair<BlobDigest, DateTimeOffset>> accesses)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            foreach (var (digest, at) in accesses)
            {
                using var command = Prepare(
                    "UPDATE blobs SET last_access = MAX(last_access, $now) WHERE digest = $digest",
                    [("$digest", digest.Hex), ("$now", at.ToUnixTimeMilliseconds())]);
                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }

    /// <summary>Adds <paramref name="delta"/> to a blob's pins (never below zero); the new count, or null when there is no such blob.</summary>
    public int? AdjustPins(BlobDigest digest, int delta)
    {
        lock (_gate)
        {
            using var command = Prepare(
                "UPDATE blobs SET pin_count = MAX(0, pin_count + $delta) WHERE digest = $digest RETURNING pin_count",
                [("$digest", digest.Hex), ("$delta", delta)]);
            return command.ExecuteScalar() is long count ? (int)count : null;
        }
    }

    /// <summary>A blob's row, or null.</summary>
    public BlobRecord? GetBlob(BlobDigest digest) =>
        QueryBlobs(SelectBlob + " WHERE digest = $digest", ("$digest", digest.Hex)).FirstOrDefault();

    /// <summary>Every blob, least recently accessed first (the order to replay into an eviction policy).</summary>
    public IReadOnlyList<BlobRecord> ListBlobs() => QueryBlobs(SelectBlob + " ORDER BY last_access, digest");

    /// <summary>Removes a blob's row and every entry that points at it, in one transaction.</summary>
    public void RemoveBlob(BlobDigest digest)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            foreach (var sql in new[] { "DELETE FROM entries WHERE digest = $digest", "DELETE FROM blobs WHERE digest = $digest" })
            {
                using var command = Prepare(sql, [("$digest", digest.Hex)]);
                command.Transaction = transaction;
                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }

    /// <summary>Stores or replaces a key's entry; its blob's row must exist.</summary>
    public void PutEntry(CacheEntry entry) => Execute(
        """
        INSERT INTO entries VALUES ($protocol, $kind, $key, $digest, $size, $type, $etag, $status, $stored, $expires)
        ON CONFLICT(protocol, kind, key) DO UPDATE SET digest = $digest, size = $size, content_type = $type, etag = $etag,
          upstream_status = $status, stored_at = $stored, expires_at = $expires
        """,
        ("$protocol", entry.Key.Protocol), ("$kind", entry.Key.Kind), ("$key", entry.Key.Key), ("$digest", entry.Digest.Hex),
        ("$size", entry.Size), ("$type", entry.ContentType), ("$etag", entry.ETag), ("$status", entry.UpstreamStatus),
        ("$stored", entry.StoredAt.ToUnixTimeMilliseconds()), ("$expires", entry.ExpiresAt?.ToUnixTimeMilliseconds()));

    /// <summary>Removes a key's entry (its blob stays); false when there was none.</summary>
    public bool RemoveEntry(CacheKey key)
    {
        lock (_gate)
        {
            using var command = Prepare(
                "DELETE FROM entries WHERE protocol = $protocol AND kind = $kind AND key = $key",
                [("$protocol", key.Protocol), ("$kind", key.Kind), ("$key", key.Key)]);
            return command.ExecuteNonQuery() > 0;
        }
    }

    /// <summary>A key's entry and whether it is fresh at <paramref name="now"/>.</summary>
    public CacheLookup Lookup(CacheKey key, DateTimeOffset now)
    {
        lock (_gate)
        {
            using var command = Prepare(
                """
                SELECT digest, size, content_type, etag, upstream_status, stored_at, expires_at FROM entries
                WHERE protocol = $protocol AND kind = $kind AND key = $key
                """,
                [("$protocol", key.Protocol), ("$kind", key.Kind), ("$key", key.Key)]);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return CacheLookup.Missing;
            }

            var entry = new CacheEntry
            {
                Key = key,
                Digest = BlobDigest.Parse(reader.GetString(0)),
                Size = reader.GetInt64(1),
                ContentType = reader.GetString(2),
                ETag = reader.GetString(3),
                UpstreamStatus = reader.GetInt32(4),
                StoredAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                ExpiresAt = reader.IsDBNull(6) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)),
            };
            var fresh = entry.ExpiresAt is not { } expires || now < expires;
            return new CacheLookup(fresh ? CacheFreshness.Fresh : CacheFreshness.Stale, entry);
        }
    }

    /// <summary>Closes the database.</summary>
    public void Dispose() => _connection.Dispose();

    private void Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        lock (_gate)
        {
            using var command = Prepare(sql, parameters);
            command.ExecuteNonQuery();
        }
    }

    private List<BlobRecord> QueryBlobs(string sql, params (string Name, object? Value)[] parameters)
    {
        lock (_gate)
        {
            using var command = Prepare(sql, parameters);
            using var reader = command.ExecuteReader();
            var list = new List<BlobRecord>();
            while (reader.Read())
            {
                list.Add(new BlobRecord(
                    BlobDigest.Parse(reader.GetString(0)),
                    reader.GetInt64(1),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                    reader.GetInt32(4),
                    reader.GetInt32(5)));
            }

            return list;
        }
    }

    private SqliteCommand Prepare(string sql, (string Name, object? Value)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }
}
