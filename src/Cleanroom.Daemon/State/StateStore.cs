using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Cleanroom.Daemon.State;

/// <summary>
/// The daemon's durable records (SQLite). One connection, serialised by a gate: the write rate is a handful of rows
/// per sandbox or execution, far below what contention would matter for. Write-ahead log with <c>synchronous =
/// NORMAL</c>: a commit is in the log (the page cache) when it returns, so a daemon that is killed loses nothing, and
/// the log is synced at checkpoints. A power cut or kernel crash can lose the last commits, never the database's
/// consistency. Syncing every commit put three or four fsyncs (0.5 to 2 ms each here) into every exec's round trip.
/// The event store writes the same file through a connection of its own, so a write can find the other's lock:
/// <c>busy_timeout</c> makes SQLite wait for it in steps of a few milliseconds. Without it Microsoft.Data.Sqlite
/// retried after 150 ms, and one exec in a few hundred took 160 to 175 ms instead of 10 (bench/bench.py roundtrip).
/// </summary>
public sealed class StateStore : IDisposable
{
    private const string Schema = """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        PRAGMA busy_timeout = 5000;
        CREATE TABLE IF NOT EXISTS sandboxes (
          id TEXT PRIMARY KEY,
          status INTEGER NOT NULL,
          status_message TEXT NOT NULL,
          backend TEXT NOT NULL,
          image_ref TEXT NOT NULL,
          accelerator TEXT NOT NULL,
          vcpus INTEGER NOT NULL,
          memory_mib INTEGER NOT NULL,
          work_dir TEXT NOT NULL,
          boot_ms INTEGER NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          last_execution_id TEXT NOT NULL,
          policy_hash TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE IF NOT EXISTS executions (
          id TEXT PRIMARY KEY,
          sandbox_id TEXT NOT NULL,
          status INTEGER NOT NULL,
          command TEXT NOT NULL,
          tty INTEGER NOT NULL,
          exit_code INTEGER NOT NULL,
          signal INTEGER NOT NULL,
          error TEXT NOT NULL,
          guest_pid INTEGER NOT NULL,
          created_at INTEGER NOT NULL,
          started_at INTEGER,
          finished_at INTEGER
        );
        CREATE INDEX IF NOT EXISTS executions_by_sandbox ON executions (sandbox_id, created_at);
        CREATE INDEX IF NOT EXISTS executions_by_created ON executions (created_at, id);
        """;

    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    // The statements of Execute and the queries, each prepared once and run again with new values. Parsed afresh on
    // every call, the execution upsert (three or four per exec) cost 70 µs here against 44 prepared, and with them
    // prepared the daemon took about 0.2 ms less CPU per exec (2.19 and 2.53 ms against 1.97 and 2.31, two interleaved
    // runs of 320). Keyed by their text: a constant, or one of the few shapes a list query takes.
    private readonly Dictionary<string, SqliteCommand> _prepared = new(StringComparer.Ordinal);

    public StateStore(string databasePath)
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        _connection.Open();
        ExecuteOnce(Schema);
        AddColumnIfMissing("sandboxes", "policy_hash", "TEXT NOT NULL DEFAULT ''");
        AddColumnIfMissing("sandboxes", "image_digest", "TEXT NOT NULL DEFAULT ''");
        AddColumnIfMissing("sandboxes", "auto_remove", "INTEGER NOT NULL DEFAULT 0");
        AddColumnIfMissing("sandboxes", "allow_all", "INTEGER NOT NULL DEFAULT 0");
        AddColumnIfMissing("sandboxes", "guest_address", "TEXT NOT NULL DEFAULT ''");
        AddColumnIfMissing("sandboxes", "workspace", "TEXT NOT NULL DEFAULT ''");
        AddColumnIfMissing("sandboxes", "start_mode", "TEXT NOT NULL DEFAULT ''");
        AddColumnIfMissing("sandboxes", "start_note", "TEXT NOT NULL DEFAULT ''");
        AddColumnIfMissing("sandboxes", "boot_phases", "TEXT NOT NULL DEFAULT ''");
        AddColumnIfMissing("sandboxes", "client_key", "TEXT NOT NULL DEFAULT ''");
        AddColumnIfMissing("sandboxes", "policy_json", "TEXT NOT NULL DEFAULT ''");
        AddColumnIfMissing("executions", "stream_id", "INTEGER NOT NULL DEFAULT 0");
        ExecuteOnce("CREATE INDEX IF NOT EXISTS sandboxes_by_client_key ON sandboxes (client_key) WHERE client_key != ''");
    }

    public void UpsertSandbox(SandboxRecord s) => Execute(
        """
        INSERT INTO sandboxes VALUES ($id, $status, $msg, $backend, $image, $accel, $vcpus, $mem, $dir, $boot, $created, $updated, $last, $policy, $digest, $auto, $allowall, $guest, $workspace, $mode, $note, $phases, $key, $policyjson)
        ON CONFLICT(id) DO UPDATE SET status = $status, status_message = $msg, accelerator = $accel, boot_ms = $boot,
          updated_at = $updated, last_execution_id = $last, image_digest = $digest, guest_address = $guest, workspace = $workspace, auto_remove = $auto,
          start_mode = $mode, start_note = $note, boot_phases = $phases
        """,
        ("$id", s.Id), ("$status", (int)s.Status), ("$msg", s.StatusMessage), ("$backend", s.Backend), ("$image", s.ImageRef),
        ("$accel", s.Accelerator), ("$vcpus", s.Vcpus), ("$mem", s.MemoryMiB), ("$dir", s.WorkDir), ("$boot", s.BootMs),
        ("$created", s.CreatedAt.ToUnixTimeMilliseconds()), ("$updated", s.UpdatedAt.ToUnixTimeMilliseconds()), ("$last", s.LastExecutionId), ("$policy", s.PolicyHash), ("$digest", s.ImageDigest), ("$auto", s.AutoRemove ? 1 : 0),
        ("$allowall", s.AllowAll ? 1 : 0), ("$guest", s.GuestAddress),
        ("$workspace", s.Workspace is null ? "" : JsonSerializer.Serialize(s.Workspace, StateJsonContext.Default.SandboxWorkspace)),
        ("$mode", s.StartMode), ("$note", s.StartNote), ("$phases", BootPhase.Format(s.BootPhases)), ("$key", s.ClientKey), ("$policyjson", s.PolicyJson));

    public SandboxRecord? GetSandbox(string id) => QuerySandboxes("SELECT * FROM sandboxes WHERE id = $id", ("$id", id)).FirstOrDefault();

    /// <summary>Sandboxes not stopped or failed, newest first: what a starting daemon must take over or clean up.</summary>
    public IReadOnlyList<SandboxRecord> ListLiveSandboxes() => QuerySandboxes(
        "SELECT * FROM sandboxes WHERE status NOT IN ($stopped, $failed) ORDER BY created_at DESC, id DESC",
        ("$stopped", (int)SandboxStatus.Stopped), ("$failed", (int)SandboxStatus.Failed));

    /// <summary>
    /// Newest first, at most <paramref name="limit"/>, in one query: only those not stopped or failed unless
    /// <paramref name="terminalToo"/>, and only those created with <paramref name="clientKey"/> when it is given.
    /// Creation times are in milliseconds; within one, the row inserted last (the upsert keeps a row's rowid) is newer.
    /// </summary>
    public IReadOnlyList<SandboxRecord> ListSandboxes(bool terminalToo, string? clientKey, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var conditions = new List<string>();
        var parameters = new List<(string, object?)> { ("$limit", limit) };
        if (!string.IsNullOrEmpty(clientKey))
        {
            conditions.Add("client_key = $key");
            parameters.Add(("$key", clientKey));
        }

        if (!terminalToo)
        {
            conditions.Add("status NOT IN ($stopped, $failed)");
            parameters.Add(("$stopped", (int)SandboxStatus.Stopped));
            parameters.Add(("$failed", (int)SandboxStatus.Failed));
        }

        var where = conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
        return QuerySandboxes($"SELECT * FROM sandboxes {where} ORDER BY created_at DESC, rowid DESC LIMIT $limit", [.. parameters]);
    }

    public void UpsertExecution(ExecutionRecord e) => Execute(
        """
        INSERT INTO executions (id, sandbox_id, status, command, tty, exit_code, signal, error, guest_pid, created_at, started_at, finished_at, stream_id)
        VALUES ($id, $sandbox, $status, $command, $tty, $exit, $signal, $error, $pid, $created, $started, $finished, $stream)
        ON CONFLICT(id) DO UPDATE SET status = $status, exit_code = $exit, signal = $signal, error = $error, guest_pid = $pid,
          started_at = $started, finished_at = $finished, stream_id = $stream
        """,
        ("$id", e.Id), ("$sandbox", e.SandboxId), ("$status", (int)e.Status), ("$command", JsonSerializer.Serialize(e.Command, StateJsonContext.Default.IReadOnlyListString)),
        ("$tty", e.Tty ? 1 : 0), ("$exit", e.ExitCode), ("$signal", e.Signal), ("$error", e.Error), ("$pid", e.GuestPid),
        ("$created", e.CreatedAt.ToUnixTimeMilliseconds()), ("$started", e.StartedAt?.ToUnixTimeMilliseconds()), ("$finished", e.FinishedAt?.ToUnixTimeMilliseconds()), ("$stream", (long)e.StreamId));

    public ExecutionRecord? GetExecution(string id) => QueryExecutions("SELECT * FROM executions WHERE id = $id", ("$id", id)).FirstOrDefault();

    /// <summary>Newest first.</summary>
    public IReadOnlyList<ExecutionRecord> ListExecutions(string sandboxId) =>
        QueryExecutions("SELECT * FROM executions WHERE sandbox_id = $sandbox ORDER BY created_at DESC, id DESC", ("$sandbox", sandboxId));

    /// <summary>
    /// Newest first, at most <paramref name="limit"/>, in one query: of one sandbox or (<paramref name="sandboxId"/>
    /// null) of all, and only the queued and running ones when <paramref name="unfinishedOnly"/>.
    /// </summary>
    public IReadOnlyList<ExecutionRecord> ListNewestExecutions(string? sandboxId, bool unfinishedOnly, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var conditions = new List<string>();
        var parameters = new List<(string, object?)> { ("$limit", limit) };
        if (sandboxId is not null)
        {
            conditions.Add("sandbox_id = $sandbox");
            parameters.Add(("$sandbox", sandboxId));
        }

        if (unfinishedOnly)
        {
            conditions.Add("status IN ($queued, $running)");
            parameters.Add(("$queued", (int)ExecutionStatus.Queued));
            parameters.Add(("$running", (int)ExecutionStatus.Running));
        }

        var where = conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
        return QueryExecutions($"SELECT * FROM executions {where} ORDER BY created_at DESC, id DESC LIMIT $limit", [.. parameters]);
    }

    /// <summary>Executions that were queued or running when the daemon last stopped.</summary>
    public IReadOnlyList<ExecutionRecord> ListUnfinishedExecutions() =>
        QueryExecutions("SELECT * FROM executions WHERE status IN ($queued, $running)", ("$queued", (int)ExecutionStatus.Queued), ("$running", (int)ExecutionStatus.Running));

    /// <summary>The unfinished executions of one sandbox (a takeover at start-up asks once per sandbox).</summary>
    public IReadOnlyList<ExecutionRecord> ListUnfinishedExecutions(string sandboxId) =>
        QueryExecutions("SELECT * FROM executions WHERE sandbox_id = $sandbox AND status IN ($queued, $running)", ("$sandbox", sandboxId), ("$queued", (int)ExecutionStatus.Queued), ("$running", (int)ExecutionStatus.Running));

    /// <summary>
    /// Deletes the records a user can no longer need, in one transaction: sandboxes that stopped or failed before
    /// <paramref name="cutoff"/> or beyond the newest <paramref name="keepEndedSandboxes"/> of them, then finished
    /// executions that ended before the cutoff, belong to a sandbox with no record left, or are beyond the newest
    /// <paramref name="keepFinishedExecutions"/>. Live sandboxes and unfinished executions are never touched. The
    /// counts bound the database where a client creates sandboxes or runs commands faster than the retention ages them.
    /// </summary>
    public PrunedRecords PruneRecords(DateTimeOffset cutoff, int keepEndedSandboxes, int keepFinishedExecutions)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keepEndedSandboxes);
        ArgumentOutOfRangeException.ThrowIfNegative(keepFinishedExecutions);
        (string Name, object? Value)[] parameters =
        [
            ("$cutoff", cutoff.ToUnixTimeMilliseconds()), ("$keepSandboxes", keepEndedSandboxes), ("$keepExecutions", keepFinishedExecutions),
            ("$stopped", (int)SandboxStatus.Stopped), ("$failed", (int)SandboxStatus.Failed),
            ("$queued", (int)ExecutionStatus.Queued), ("$running", (int)ExecutionStatus.Running),
        ];
        const string endedSandboxes = """
            status IN ($stopped, $failed) AND (updated_at < $cutoff OR rowid NOT IN (
              SELECT rowid FROM sandboxes WHERE status IN ($stopped, $failed) ORDER BY updated_at DESC, rowid DESC LIMIT $keepSandboxes))
            """;
        const string finishedExecutions = """
            status NOT IN ($queued, $running) AND (COALESCE(finished_at, created_at) < $cutoff
              OR sandbox_id NOT IN (SELECT id FROM sandboxes)
              OR rowid NOT IN (SELECT rowid FROM executions WHERE status NOT IN ($queued, $running) ORDER BY created_at DESC, rowid DESC LIMIT $keepExecutions))
            """;
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            var sandboxes = ReadStrings($"SELECT id FROM sandboxes WHERE {endedSandboxes}", parameters, transaction).Select(r => r[0]).ToList();
            RunIn(transaction, $"DELETE FROM sandboxes WHERE {endedSandboxes}", parameters);
            var executions = ReadStrings($"SELECT sandbox_id, id FROM executions WHERE {finishedExecutions}", parameters, transaction)
                .Select(r => (SandboxId: r[0], ExecutionId: r[1])).ToList();
            RunIn(transaction, $"DELETE FROM executions WHERE {finishedExecutions}", parameters);
            transaction.Commit();
            return new PrunedRecords(sandboxes, executions);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var command in _prepared.Values)
            {
                command.Dispose();
            }

            _prepared.Clear();
            _connection.Dispose();
        }
    }

    /// <summary>How long a statement waits inside SQLite for another connection's lock (<c>busy_timeout</c>).</summary>
    internal long BusyTimeoutMilliseconds
    {
        get
        {
            lock (_gate)
            {
                using var pragma = Prepare("PRAGMA busy_timeout", []);
                return (long)pragma.ExecuteScalar()!;
            }
        }
    }

    /// <summary>Brings a database written by an earlier version up to this schema.</summary>
    private void AddColumnIfMissing(string table, string column, string definition)
    {
        lock (_gate)
        {
            using var info = Prepare($"SELECT 1 FROM pragma_table_info('{table}') WHERE name = $column", [("$column", column)]);
            if (info.ExecuteScalar() is null)
            {
                using var alter = Prepare($"ALTER TABLE {table} ADD COLUMN {column} {definition}", []);
                alter.ExecuteNonQuery();
            }
        }
    }

    /// <summary>A statement run at start only: not kept prepared.</summary>
    private void ExecuteOnce(string sql)
    {
        lock (_gate)
        {
            using var command = Prepare(sql, []);
            command.ExecuteNonQuery();
        }
    }

    private void Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        lock (_gate)
        {
            Reusable(sql, parameters).ExecuteNonQuery();
        }
    }

    private List<SandboxRecord> QuerySandboxes(string sql, params (string Name, object? Value)[] parameters)
    {
        lock (_gate)
        {
            using var reader = Reusable(sql, parameters).ExecuteReader();
            var list = new List<SandboxRecord>();
            while (reader.Read())
            {
                list.Add(new SandboxRecord
                {
                    Id = reader.GetString(0),
                    Status = (SandboxStatus)reader.GetInt32(1),
                    StatusMessage = reader.GetString(2),
                    Backend = reader.GetString(3),
                    ImageRef = reader.GetString(4),
                    Accelerator = reader.GetString(5),
                    Vcpus = reader.GetInt32(6),
                    MemoryMiB = reader.GetInt32(7),
                    WorkDir = reader.GetString(8),
                    BootMs = reader.GetInt64(9),
                    CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)),
                    UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(11)),
                    LastExecutionId = reader.GetString(12),
                    PolicyHash = reader.GetString(13),
                    ImageDigest = reader.GetString(14),
                    AutoRemove = reader.GetInt32(15) != 0,
                    AllowAll = reader.GetInt32(16) != 0,
                    GuestAddress = reader.GetString(17),
                    Workspace = reader.GetString(18) is { Length: > 0 } workspace ? JsonSerializer.Deserialize(workspace, StateJsonContext.Default.SandboxWorkspace) : null,
                    StartMode = reader.GetString(19),
                    StartNote = reader.GetString(20),
                    BootPhases = BootPhase.Parse(reader.GetString(21)),
                    ClientKey = reader.GetString(22),
                    PolicyJson = reader.GetString(23),
                });
            }

            return list;
        }
    }

    private List<ExecutionRecord> QueryExecutions(string sql, params (string Name, object? Value)[] parameters)
    {
        lock (_gate)
        {
            using var reader = Reusable(sql, parameters).ExecuteReader();
            var list = new List<ExecutionRecord>();
            while (reader.Read())
            {
                list.Add(new ExecutionRecord
                {
                    Id = reader.GetString(0),
                    SandboxId = reader.GetString(1),
                    Status = (ExecutionStatus)reader.GetInt32(2),
                    Command = JsonSerializer.Deserialize(reader.GetString(3), StateJsonContext.Default.IReadOnlyListString) ?? [],
                    Tty = reader.GetInt32(4) != 0,
                    ExitCode = reader.GetInt32(5),
                    Signal = reader.GetInt32(6),
                    Error = reader.GetString(7),
                    GuestPid = reader.GetInt32(8),
                    CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
                    StartedAt = reader.IsDBNull(10) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)),
                    FinishedAt = reader.IsDBNull(11) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(11)),
                    StreamId = (uint)reader.GetInt64(reader.GetOrdinal("stream_id")),
                });
            }

            return list;
        }
    }

    private List<string[]> ReadStrings(string sql, (string Name, object? Value)[] parameters, SqliteTransaction transaction)
    {
        using var command = Prepare(sql, parameters);
        command.Transaction = transaction;
        using var reader = command.ExecuteReader();
        var rows = new List<string[]>();
        while (reader.Read())
        {
            var row = new string[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.GetString(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    private void RunIn(SqliteTransaction transaction, string sql, (string Name, object? Value)[] parameters)
    {
        using var command = Prepare(sql, parameters);
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    /// <summary>The command for <paramref name="sql"/>, prepared on first use, with these values; callers hold the gate.</summary>
    private SqliteCommand Reusable(string sql, (string Name, object? Value)[] parameters)
    {
        if (!_prepared.TryGetValue(sql, out var command))
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            _prepared[sql] = command;
        }

        command.Parameters.Clear();
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
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
