using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Cleanroom.Daemon.Events;

/// <summary>
/// Every sandbox's event log: persisted (SQLite, next to the records, its own connection) so it outlives the
/// daemon, and broadcast to followers. Bounded: past <see cref="DefaultMaxEventsPerSandbox"/> (by default) a sandbox's egress denials are
/// counted instead of stored (one <see cref="SandboxEventKind.Suppressed"/> event says so); status events are few
/// and always kept.
/// </summary>
public sealed class SandboxEventStore : IDisposable
{
    /// <summary>Most events kept per sandbox, by default.</summary>
    public const int DefaultMaxEventsPerSandbox = 10_000;

    /// <summary>Most events buffered for one follower; a follower that falls further behind is dropped.</summary>
    public const int FollowerBuffer = 1024;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS sandbox_events (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          sandbox_id TEXT NOT NULL,
          kind INTEGER NOT NULL,
          occurred_at INTEGER NOT NULL,
          status TEXT NOT NULL,
          message TEXT NOT NULL,
          destination TEXT NOT NULL,
          port INTEGER NOT NULL,
          protocol TEXT NOT NULL,
          reason TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS sandbox_events_by_sandbox ON sandbox_events (sandbox_id, seq);
        """;

    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _suppressed = new(StringComparer.Ordinal);
    private readonly List<(string SandboxId, Channel<SandboxEventRecord> Channel)> _followers = [];

    private readonly int _maxEventsPerSandbox;

    /// <param name="databasePath">The daemon's SQLite database (the events get a table of their own).</param>
    /// <param name="maxEventsPerSandbox">Past this, a sandbox's denials are counted instead of stored.</param>
    public SandboxEventStore(string databasePath, int maxEventsPerSandbox = DefaultMaxEventsPerSandbox)
    {
        _maxEventsPerSandbox = maxEventsPerSandbox;
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        _connection.Open();
        using var schema = _connection.CreateCommand();
        schema.CommandText = "PRAGMA busy_timeout = 5000;" + Schema;
        schema.ExecuteNonQuery();
    }

    /// <summary>Records and broadcasts an event; returns false when it was counted instead of stored.</summary>
    public bool Add(SandboxEventRecord record)
    {
        lock (_gate)
        {
            var count = CountOf(record.SandboxId);
            if (record.Kind != SandboxEventKind.Status && count >= _maxEventsPerSandbox)
            {
                var suppressed = _suppressed.GetValueOrDefault(record.SandboxId) + 1;
                _suppressed[record.SandboxId] = suppressed;
                if (suppressed == 1)
                {
                    Store(new SandboxEventRecord
                    {
                        SandboxId = record.SandboxId,
                        Kind = SandboxEventKind.Suppressed,
                        OccurredAt = record.OccurredAt,
                        Message = $"this sandbox reached {_maxEventsPerSandbox} events: further denials are counted, not stored (see the audit log)",
                    });
                }

                return false;
            }

            Store(record);
            return true;
        }
    }

    /// <summary>The stored events of a sandbox after <paramref name="afterSequence"/>, oldest first.</summary>
    public IReadOnlyList<SandboxEventRecord> List(string sandboxId, long afterSequence = 0)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT * FROM sandbox_events WHERE sandbox_id = $id AND seq > $after ORDER BY seq";
            command.Parameters.AddWithValue("$id", sandboxId);
            command.Parameters.AddWithValue("$after", afterSequence);
            using var reader = command.ExecuteReader();
            var events = new List<SandboxEventRecord>();
            while (reader.Read())
            {
                events.Add(new SandboxEventRecord
                {
                    Sequence = reader.GetInt64(reader.GetOrdinal("seq")),
                    SandboxId = reader.GetString(reader.GetOrdinal("sandbox_id")),
                    Kind = (SandboxEventKind)reader.GetInt32(reader.GetOrdinal("kind")),
                    OccurredAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(reader.GetOrdinal("occurred_at"))),
                    Status = reader.GetString(reader.GetOrdinal("status")),
                    Message = reader.GetString(reader.GetOrdinal("message")),
                    Destination = reader.GetString(reader.GetOrdinal("destination")),
                    Port = reader.GetInt32(reader.GetOrdinal("port")),
                    Protocol = reader.GetString(reader.GetOrdinal("protocol")),
                    Reason = reader.GetString(reader.GetOrdinal("reason")),
                });
            }

            return events;
        }
    }

    /// <summary>
    /// Follows a sandbox: first the stored events, then new ones as they happen, until <paramref name="ct"/> ends or
    /// the follower falls <see cref="FollowerBuffer"/> events behind (then the stream ends; the client resumes).
    /// </summary>
    public async IAsyncEnumerable<SandboxEventRecord> FollowAsync(string sandboxId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var channel = Channel.CreateBounded<SandboxEventRecord>(new BoundedChannelOptions(FollowerBuffer) { SingleReader = true });
        IReadOnlyList<SandboxEventRecord> history;
        lock (_gate)
        {
            // Subscribed and read under one lock: nothing is missed or seen twice between the two.
            _followers.Add((sandboxId, channel));
            history = List(sandboxId);
        }

        try
        {
            foreach (var record in history)
            {
                yield return record;
            }

            await foreach (var record in channel.Reader.ReadAllAsync(ct))
            {
                yield return record;
            }
        }
        finally
        {
            lock (_gate)
            {
                _followers.Remove((sandboxId, channel));
            }
        }
    }

    /// <summary>Ends the followers of a sandbox that reached a final status.</summary>
    public void Complete(string sandboxId)
    {
        lock (_gate)
        {
            foreach (var (id, channel) in _followers.Where(f => f.SandboxId == sandboxId))
            {
                channel.Writer.TryComplete();
            }

            // Only a live sandbox adds events: its counters need not outlive it (they are re-read if it ever does).
            _counts.Remove(sandboxId);
            _suppressed.Remove(sandboxId);
        }
    }

    public void Dispose() => _connection.Dispose();

    private int CountOf(string sandboxId)
    {
        if (!_counts.TryGetValue(sandboxId, out var count))
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM sandbox_events WHERE sandbox_id = $id";
            command.Parameters.AddWithValue("$id", sandboxId);
            count = Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            _counts[sandboxId] = count;
        }

        return count;
    }

    private void Store(SandboxEventRecord record)
    {
        var before = CountOf(record.SandboxId);
        using var command = _connection.CreateCommand();
        command.CommandText = """
            INSERT INTO sandbox_events (sandbox_id, kind, occurred_at, status, message, destination, port, protocol, reason)
            VALUES ($id, $kind, $at, $status, $message, $destination, $port, $protocol, $reason) RETURNING seq
            """;
        command.Parameters.AddWithValue("$id", record.SandboxId);
        command.Parameters.AddWithValue("$kind", (int)record.Kind);
        command.Parameters.AddWithValue("$at", record.OccurredAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$status", record.Status);
        command.Parameters.AddWithValue("$message", record.Message);
        command.Parameters.AddWithValue("$destination", record.Destination);
        command.Parameters.AddWithValue("$port", record.Port);
        command.Parameters.AddWithValue("$protocol", record.Protocol);
        command.Parameters.AddWithValue("$reason", record.Reason);
        var stored = record with { Sequence = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) };
        _counts[record.SandboxId] = before + 1;
        foreach (var (id, channel) in _followers)
        {
            if (id == record.SandboxId && !channel.Writer.TryWrite(stored))
            {
                channel.Writer.TryComplete(new InvalidOperationException("the follower fell too far behind; resume with a new request"));
            }
        }
    }
}
