using Cleanroom.Daemon.Services;
using Cleanroom.Daemon.State;
using Microsoft.Data.Sqlite;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The state database outlives daemon versions: statuses are stored as fixed numbers (the ones versions that
/// persisted the API enums wrote), so an upgraded daemon reads an old database correctly and an old one reads ours.
/// </summary>
public sealed class StateStoreTests : IDisposable
{
    // The number each status has always had in the status columns.
    private static readonly (SandboxStatus Status, int Stored)[] SandboxNumbers =
        [(SandboxStatus.Provisioning, 1), (SandboxStatus.Ready, 2), (SandboxStatus.Stopping, 3), (SandboxStatus.Stopped, 4), (SandboxStatus.Failed, 5)];

    private static readonly (ExecutionStatus Status, int Stored)[] ExecutionNumbers =
    [
        (ExecutionStatus.Queued, 1), (ExecutionStatus.Running, 2), (ExecutionStatus.Succeeded, 3), (ExecutionStatus.Failed, 4),
        (ExecutionStatus.Canceled, 5), (ExecutionStatus.TimedOut, 6),
    ];

    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("cr-state-tests-");

    private string DatabasePath => Path.Combine(_root.FullName, "cleanroom.db");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void A_database_from_an_earlier_version_reads_with_every_status_intact()
    {
        // The schema before image digests and auto-remove existed, with rows as that version wrote them.
        using (var old = Open())
        {
            Run(old, """
                CREATE TABLE sandboxes (id TEXT PRIMARY KEY, status INTEGER NOT NULL, status_message TEXT NOT NULL, backend TEXT NOT NULL,
                  image_ref TEXT NOT NULL, accelerator TEXT NOT NULL, vcpus INTEGER NOT NULL, memory_mib INTEGER NOT NULL, work_dir TEXT NOT NULL,
                  boot_ms INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_execution_id TEXT NOT NULL,
                  policy_hash TEXT NOT NULL DEFAULT '');
                CREATE TABLE executions (id TEXT PRIMARY KEY, sandbox_id TEXT NOT NULL, status INTEGER NOT NULL, command TEXT NOT NULL,
                  tty INTEGER NOT NULL, exit_code INTEGER NOT NULL, signal INTEGER NOT NULL, error TEXT NOT NULL, guest_pid INTEGER NOT NULL,
                  created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER);
                """);
            foreach (var (_, stored) in SandboxNumbers)
            {
                Run(old, $"INSERT INTO sandboxes VALUES ('s{stored}', {stored}, '', 'qemu', 'busybox', 'tcg', 1, 256, '/w', 0, {stored}, {stored}, '', '')");
            }

            foreach (var (_, stored) in ExecutionNumbers)
            {
                Run(old, $"INSERT INTO executions VALUES ('e{stored}', 's2', {stored}, '[\"true\"]', 0, 0, 0, '', 0, {stored}, NULL, NULL)");
            }
        }

        using var store = new StateStore(DatabasePath);

        foreach (var (status, stored) in SandboxNumbers)
        {
            Assert.Equal(status, store.GetSandbox($"s{stored}")!.Status);
        }

        foreach (var (status, stored) in ExecutionNumbers)
        {
            Assert.Equal(status, store.GetExecution($"e{stored}")!.Status);
        }

        Assert.Equal(["e1", "e2"], store.ListUnfinishedExecutions().Select(e => e.Id).Order());
        Assert.Equal(["e1", "e2"], store.ListUnfinishedExecutions("s2").Select(e => e.Id).Order());
        Assert.Empty(store.ListUnfinishedExecutions("s1"));
    }

    [Fact]
    public void Statuses_are_written_as_the_numbers_earlier_versions_read()
    {
        using (var store = new StateStore(DatabasePath))
        {
            foreach (var (status, stored) in SandboxNumbers)
            {
                store.UpsertSandbox(new SandboxRecord
                {
                    Id = $"s{stored}",
                    Status = status,
                    Backend = "qemu",
                    ImageRef = "busybox",
                    WorkDir = "/w",
                    CreatedAt = DateTimeOffset.UnixEpoch,
                    UpdatedAt = DateTimeOffset.UnixEpoch,
                });
            }

            foreach (var (status, stored) in ExecutionNumbers)
            {
                store.UpsertExecution(new ExecutionRecord { Id = $"e{stored}", SandboxId = "s2", Status = status, Command = ["true"], CreatedAt = DateTimeOffset.UnixEpoch });
            }
        }

        using var raw = Open();
        foreach (var (_, stored) in SandboxNumbers)
        {
            Assert.Equal(stored, Scalar(raw, $"SELECT status FROM sandboxes WHERE id = 's{stored}'"));
        }

        foreach (var (_, stored) in ExecutionNumbers)
        {
            Assert.Equal(stored, Scalar(raw, $"SELECT status FROM executions WHERE id = 'e{stored}'"));
        }
    }

    [Fact]
    public void Every_status_reaches_the_API_as_its_namesake()
    {
        Assert.All(Enum.GetValues<SandboxStatus>(), status => Assert.Equal(status.ToString(), status.ToProto().ToString()));
        Assert.All(Enum.GetValues<ExecutionStatus>(), status => Assert.Equal(status.ToString(), status.ToProto().ToString()));
    }

    [Fact]
    public void A_write_that_finds_the_event_stores_lock_waits_for_it_inside_sqlite()
    {
        // The event store shares the database file. Without a busy timeout a write that met its lock was retried by
        // Microsoft.Data.Sqlite after 150 ms, which is what an exec's round trip then took.
        using var store = new StateStore(DatabasePath);
        Assert.InRange(store.BusyTimeoutMilliseconds, 1_000, 30_000);
    }

    [Fact]
    public void Records_written_stage_by_stage_read_back_each_stage()
    {
        // The store runs each statement again with new values: every write and read must bind this call's values,
        // including a time that was null the last time and is set now.
        using var store = new StateStore(DatabasePath);
        var created = DateTimeOffset.FromUnixTimeMilliseconds(1_000);
        var queued = new ExecutionRecord { Id = "e1", SandboxId = "s1", Status = ExecutionStatus.Queued, Command = ["true"], CreatedAt = created };
        var other = queued with { Id = "e2", SandboxId = "s2", Command = ["false"] };
        store.UpsertExecution(queued);
        store.UpsertExecution(other);
        Assert.Null(store.GetExecution("e1")!.StartedAt);

        var running = queued with { Status = ExecutionStatus.Running, StartedAt = created.AddSeconds(1), StreamId = 7, GuestPid = 42 };
        store.UpsertExecution(running);
        var read = store.GetExecution("e1")!;
        Assert.Equal((ExecutionStatus.Running, created.AddSeconds(1), 7u, 42), (read.Status, read.StartedAt, read.StreamId, read.GuestPid));
        Assert.Equal((ExecutionStatus.Queued, (DateTimeOffset?)null, "false"), (store.GetExecution("e2")!.Status, store.GetExecution("e2")!.StartedAt, store.GetExecution("e2")!.Command[0]));

        store.UpsertExecution(running with { Status = ExecutionStatus.Failed, ExitCode = 3, Error = "boom", FinishedAt = created.AddSeconds(2) });
        read = store.GetExecution("e1")!;
        Assert.Equal((ExecutionStatus.Failed, 3, "boom", created.AddSeconds(2)), (read.Status, read.ExitCode, read.Error, read.FinishedAt));
        Assert.Equal(["e1"], store.ListExecutions("s1").Select(e => e.Id));
        Assert.Equal(["e2"], store.ListExecutions("s2").Select(e => e.Id));
        Assert.Equal(["e2"], store.ListUnfinishedExecutions().Select(e => e.Id));
        Assert.Null(store.GetExecution("e3"));
    }

    [Fact]
    public void Statements_kept_prepared_leave_no_read_open_that_would_stop_a_checkpoint()
    {
        // A statement left un-reset would hold a read snapshot: the write-ahead log could then never be checkpointed
        // back into the database and would grow for as long as the daemon runs.
        using var store = new StateStore(DatabasePath);
        for (var i = 0; i < 20; i++)
        {
            store.UpsertSandbox(new SandboxRecord
            {
                Id = $"s{i}",
                Status = SandboxStatus.Ready,
                Backend = "qemu",
                ImageRef = "busybox",
                WorkDir = "/w",
                CreatedAt = DateTimeOffset.UnixEpoch,
                UpdatedAt = DateTimeOffset.UnixEpoch,
            });
            store.UpsertExecution(new ExecutionRecord { Id = $"e{i}", SandboxId = $"s{i}", Status = ExecutionStatus.Running, Command = ["true"], CreatedAt = DateTimeOffset.UnixEpoch });
            Assert.NotNull(store.GetSandbox($"s{i}"));
            Assert.Single(store.ListExecutions($"s{i}"));
            Assert.NotEmpty(store.ListSandboxes(terminalToo: false, clientKey: null, limit: 5));
        }

        using var other = Open();
        using var checkpoint = other.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        using var result = checkpoint.ExecuteReader();
        Assert.True(result.Read());
        Assert.Equal(0, result.GetInt64(0)); // 1 would mean a reader or writer kept it from finishing
        Assert.Equal(0, result.GetInt64(1)); // the log is empty afterwards
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static void Run(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
