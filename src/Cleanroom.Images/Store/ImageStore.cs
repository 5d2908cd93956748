using System.Text.Json;
using Cleanroom.Oci;
using Microsoft.Data.Sqlite;

namespace Cleanroom.Images.Store;

/// <summary>
/// The image metadata database (SQLite): one row per image digest, and a ref table so several references (a tag, a
/// pinned index digest, an import name) can point at one image without storing it twice. The rootfs files live
/// beside it; a row is only written after its rootfs file was renamed into place, so a row always means "usable"
/// unless someone deleted the file behind our back (which <see cref="Find"/> checks).
/// </summary>
public sealed class ImageStore : IDisposable
{
    private const string Schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS images (
          digest TEXT PRIMARY KEY,
          rootfs_path TEXT NOT NULL,
          content_bytes INTEGER NOT NULL,
          filesystem_bytes INTEGER NOT NULL,
          created_at INTEGER NOT NULL,
          last_used_at INTEGER NOT NULL,
          source TEXT NOT NULL,
          platform TEXT NOT NULL,
          defaults_json TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS image_refs (
          ref TEXT PRIMARY KEY,
          digest TEXT NOT NULL REFERENCES images(digest) ON DELETE CASCADE,
          updated_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS image_refs_by_digest ON image_refs (digest);
        """;

    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    public ImageStore(string databasePath)
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA foreign_keys = ON;" + Schema);
    }

    /// <summary>Records an image (or refreshes it) and points <paramref name="refs"/> at it.</summary>
    public void Save(ImageRecord image, IEnumerable<string> refs)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            Run(
                """
                INSERT INTO images VALUES ($digest, $rootfs, $content, $fs, $created, $used, $source, $platform, $defaults)
                ON CONFLICT(digest) DO UPDATE SET rootfs_path = $rootfs, content_bytes = $content, filesystem_bytes = $fs,
                  last_used_at = $used, platform = $platform, defaults_json = $defaults
                """,
                ("$digest", image.Digest.ToString()), ("$rootfs", image.RootfsPath), ("$content", image.ContentBytes),
                ("$fs", image.FilesystemBytes), ("$created", image.CreatedAt.ToUnixTimeMilliseconds()),
                ("$used", image.LastUsedAt.ToUnixTimeMilliseconds()), ("$source", image.Source), ("$platform", image.Platform),
                ("$defaults", JsonSerializer.Serialize(image.Defaults, OciJsonContext.Default.RunDefaults)));
            foreach (var reference in refs.Distinct(StringComparer.Ordinal))
            {
                AddRefLocked(reference, image.Digest);
            }

            transaction.Commit();
        }
    }

    /// <summary>Points <paramref name="reference"/> at an image already stored (a tag moving, a new pin).</summary>
    public void AddRef(string reference, Digest digest)
    {
        lock (_gate)
        {
            AddRefLocked(reference, digest);
        }
    }

    /// <summary>The image with this digest, when its row exists and its rootfs file is still there.</summary>
    public ImageRecord? Find(Digest digest) =>
        Query("SELECT * FROM images WHERE digest = $d", ("$d", digest.ToString())).FirstOrDefault(i => File.Exists(i.RootfsPath));

    /// <summary>The image a canonical reference was last resolved to, when usable.</summary>
    public ImageRecord? FindByRef(string reference) =>
        Query("SELECT images.* FROM images JOIN image_refs ON image_refs.digest = images.digest WHERE image_refs.ref = $r", ("$r", reference))
            .FirstOrDefault(i => File.Exists(i.RootfsPath));

    /// <summary>Every image, most recently used first.</summary>
    public IReadOnlyList<ImageRecord> List() => Query("SELECT * FROM images ORDER BY last_used_at DESC, digest");

    public void Touch(Digest digest, DateTimeOffset when) =>
        Execute("UPDATE images SET last_used_at = $t WHERE digest = $d", ("$t", when.ToUnixTimeMilliseconds()), ("$d", digest.ToString()));

    /// <summary>Deletes the row and its refs (the caller deletes the rootfs file).</summary>
    public void Delete(Digest digest) => Execute("DELETE FROM images WHERE digest = $d", ("$d", digest.ToString()));

    public void Dispose() => _connection.Dispose();

    private void AddRefLocked(string reference, Digest digest) => Run(
        "INSERT INTO image_refs VALUES ($r, $d, $t) ON CONFLICT(ref) DO UPDATE SET digest = $d, updated_at = $t",
        ("$r", reference), ("$d", digest.ToString()), ("$t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

    private void Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        lock (_gate)
        {
            Run(sql, parameters);
        }
    }

    private void Run(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Prepare(sql, parameters);
        command.ExecuteNonQuery();
    }

    private List<ImageRecord> Query(string sql, params (string Name, object? Value)[] parameters)
    {
        lock (_gate)
        {
            var list = new List<ImageRecord>();
            using (var command = Prepare(sql, parameters))
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    list.Add(new ImageRecord
                    {
                        Digest = Digest.Parse(reader.GetString(0)),
                        RootfsPath = reader.GetString(1),
                        ContentBytes = reader.GetInt64(2),
                        FilesystemBytes = reader.GetInt64(3),
                        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                        LastUsedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                        Source = reader.GetString(6),
                        Platform = reader.GetString(7),
                        Defaults = JsonSerializer.Deserialize(reader.GetString(8), OciJsonContext.Default.RunDefaults) ?? new RunDefaults(),
                    });
                }
            }

            return list.Select(i => i with { Refs = RefsOfLocked(i.Digest) }).ToList();
        }
    }

    private List<string> RefsOfLocked(Digest digest)
    {
        using var command = Prepare("SELECT ref FROM image_refs WHERE digest = $d ORDER BY updated_at DESC, ref", [("$d", digest.ToString())]);
        using var reader = command.ExecuteReader();
        var refs = new List<string>();
        while (reader.Read())
        {
            refs.Add(reader.GetString(0));
        }

        return refs;
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
