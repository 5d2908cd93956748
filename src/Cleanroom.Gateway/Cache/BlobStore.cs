using System.Buffers;
using System.IO.Hashing;
using System.Security.Cryptography;

namespace Cleanroom.Gateway.Cache;

/// <summary>
/// Content-addressed files: a blob lives at <c>blobs/&lt;2 hex&gt;/&lt;64 hex&gt;</c> under the root, named by the
/// SHA-256 of its bytes. Writes stream into <c>blobs/.tmp/</c> (same file system, so the final rename is atomic) while
/// hashing and counting, are fsynced, then renamed into place; readers see a whole blob or none. Reads hash as they
/// stream and fail at the end when the bytes changed on disk (against the XXH128 recorded with the file, see
/// <see cref="BlobReadCheck"/>, or the SHA-256 of the name). Knows nothing of keys, metadata or eviction.
/// </summary>
public sealed class BlobStore
{
    private const int BufferSize = 128 * 1024;
    private const string TempSuffix = ".part";

    private readonly string _blobsDirectory;
    private readonly string _tempDirectory;
    private readonly BlobFileCache _openFiles = new(OpenFilesHeld, OpenFileMaxBytes);

    // Small blobs' files stay open between hits (see BlobFileCache): enough descriptors for a CI job's package set
    // (a lockfile's worth of tarballs, modules, gems), a tenth of a usual 20,000 open-file limit; each for a blob of at
    // most 256 KiB, which also bounds the disk space files deleted behind the store's back can hold until noticed.
    private const int OpenFilesHeld = 2048;
    private const long OpenFileMaxBytes = 256 << 10;

    /// <param name="rootDirectory">The store's directory (created if missing).</param>
    /// <param name="maxObjectBytes">The largest blob accepted; a put past it fails while streaming.</param>
    public BlobStore(string rootDirectory, long maxObjectBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxObjectBytes);
        MaxObjectBytes = maxObjectBytes;
        _blobsDirectory = Path.Combine(Path.GetFullPath(rootDirectory), "blobs");
        _tempDirectory = Path.Combine(_blobsDirectory, ".tmp");
        Directory.CreateDirectory(_tempDirectory);
    }

    /// <summary>The largest blob accepted.</summary>
    public long MaxObjectBytes { get; }

    /// <summary>Makes a rename into a directory durable; replaceable so tests can make it fail.</summary>
    internal Action<string> FlushDirectory { get; init; } = DirectorySync.Flush;

    /// <summary>Called just before a blob's file is opened for reading; lets tests race an eviction against it.</summary>
    internal Action<BlobDigest>? OpeningForRead { get; set; }

    /// <summary>The file that holds (or would hold) <paramref name="digest"/>.</summary>
    public string PathOf(BlobDigest digest) => Path.Combine(_blobsDirectory, digest.Hex[..2], digest.Hex);

    /// <summary>True when the blob's file exists.</summary>
    public bool Contains(BlobDigest digest) => File.Exists(PathOf(digest));

    /// <summary>Stages and commits in one go (see <see cref="StageAsync"/> and <see cref="Commit"/>).</summary>
    public async Task<BlobPutResult> PutAsync(Stream content, BlobDigest? expected, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);

        // A pinned digest that is already here needs no bytes at all: the read path verifies it anyway.
        if (expected is { } known && TryTouch(known) is { } size)
        {
            return new BlobPutResult(known, size, AlreadyPresent: true);
        }

        using var staged = await StageAsync(content, expected, cancellationToken);
        return Commit(staged);
    }

    /// <summary>
    /// Streams <paramref name="content"/> into a temp file while hashing and counting, then fsyncs it. Nothing is
    /// visible under a digest until <see cref="Commit"/>; a failure of any kind (size bound, digest mismatch,
    /// cancellation, a throwing source) deletes the temp file before the exception leaves.
    /// </summary>
    /// <param name="content">The bytes, read to the end.</param>
    /// <param name="expected">When given, the digest the bytes must have.</param>
    /// <param name="cancellationToken">Stops the copy; the temp file is removed.</param>
    /// <exception cref="ObjectTooLargeException">The content passed <see cref="MaxObjectBytes"/>.</exception>
    /// <exception cref="CacheIntegrityException">The content did not hash to <paramref name="expected"/>.</exception>
    public async Task<StagedBlob> StageAsync(Stream content, BlobDigest? expected, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        Directory.CreateDirectory(_tempDirectory);
        var tempPath = Path.Combine(_tempDirectory, Guid.NewGuid().ToString("N") + TempSuffix);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var readCheck = new XxHash128();
            long size = 0;
            await using (var file = new FileStream(tempPath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
                BufferSize = 0,
            }))
            {
                int read;
                while ((read = await content.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0)
                {
                    size += read;
                    if (size > MaxObjectBytes)
                    {
                        throw new ObjectTooLargeException(MaxObjectBytes);
                    }

                    hash.AppendData(buffer, 0, read);
                    readCheck.Append(buffer.AsSpan(0, read));
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }

                // Set before the fsync, so the attribute is as durable as the bytes it describes.
                _ = BlobReadCheck.TryWrite(file.SafeFileHandle, readCheck.GetCurrentHashAsUInt128());
                file.Flush(flushToDisk: true);
            }

            var digest = BlobDigest.FromHash(hash.GetHashAndReset());
            if (expected is { } wanted && wanted != digest)
            {
                throw new CacheIntegrityException(
                    $"content should have been {wanted} but was {digest} ({size} bytes); nothing was stored", wanted, digest);
            }

            return new StagedBlob(tempPath, digest, size);
        }
        catch
        {
            DeleteQuietly(tempPath);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Renames a staged blob into place (and fsyncs the directory). A file already present under the digest is
    /// replaced by the freshly verified copy, so a blob that rotted on disk is repaired by storing it again.
    /// </summary>
    public BlobPutResult Commit(StagedBlob staged)
    {
        ArgumentNullException.ThrowIfNull(staged);
        if (staged.TempPath.Length == 0)
        {
            throw new InvalidOperationException($"{staged.Digest} was committed or disposed already");
        }

        var target = PathOf(staged.Digest);
        var directory = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(directory);

        // The staged copy was just hashed; a file already there was checked only when it was written and may have
        // rotted since. So the fresh copy always replaces it: rename(2) swaps it in atomically (readers of the old
        // file keep their open inode), and a concurrent commit of the same digest wrote the same bytes.
        var existed = File.Exists(target);
        File.Move(staged.TempPath, target, overwrite: true);
        staged.MarkCommitted();
        _openFiles.Drop(staged.Digest);
        try
        {
            FlushDirectory(directory);
        }
        catch when (!existed)
        {
            // The put fails, so the caller records nothing; a file left here would be an unrecorded blob outside the
            // eviction budget until the next start, with a rename that may not survive a crash. Deleting it is cheap:
            // the next request fetches again. (A blob that existed before is recorded; after a crash it holds the old
            // copy or the new one, both under their digest, so it stays.)
            DeleteQuietly(target);
            throw;
        }

        return new BlobPutResult(staged.Digest, staged.Size, AlreadyPresent: existed);
    }

    /// <summary>
    /// Opens a blob for reading through a stream that hashes what it returns and throws
    /// <see cref="CacheIntegrityException"/> at the end when the bytes are not the ones stored (the recorded read
    /// check, else the digest); the corrupt file is then
    /// deleted and <paramref name="onCorrupt"/> told, so the next lookup misses. Null when the blob is absent.
    /// </summary>
    public Stream? OpenRead(BlobDigest digest, Action<BlobDigest>? onCorrupt = null)
    {
        OpeningForRead?.Invoke(digest);
        var path = PathOf(digest);
        var file = _openFiles.TryLease(digest);
        if (file is null)
        {
            file = BlobFile.TryOpen(path);
            if (file is null)
            {
                return null;
            }

            // A fresh handle has no other owner yet, so the lease cannot fail; the cache may close the file right away
            // (a large blob), which takes effect when this read ends.
            _ = file.TryLease();
            _openFiles.HoldOrClose(digest, file);
        }

        return new VerifyingReadStream(file, digest, () =>
        {
            _openFiles.Drop(digest);
            DeleteQuietly(path);
            onCorrupt?.Invoke(digest);
        });
    }

    /// <summary>Closes the files held open for fast reads (readers still streaming keep theirs until they end).</summary>
    public void CloseOpenFiles() => _openFiles.Clear();

    /// <summary>Removes a blob's file; false when it was not there.</summary>
    public bool Delete(BlobDigest digest)
    {
        _openFiles.Drop(digest);
        var path = PathOf(digest);
        if (!File.Exists(path))
        {
            return false;
        }

        DeleteQuietly(path);
        return true;
    }

    /// <summary>
    /// Every digest with a file in the store (files with names that are not digests are skipped), for reconciling
    /// with the metadata after a restart.
    /// </summary>
    public IEnumerable<BlobDigest> EnumerateDigests()
    {
        foreach (var shard in Directory.EnumerateDirectories(_blobsDirectory))
        {
            var shardName = Path.GetFileName(shard);
            if (shardName.Length != 2)
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(shard))
            {
                if (BlobDigest.TryParse(Path.GetFileName(file), out var digest) && digest.Hex.StartsWith(shardName, StringComparison.Ordinal))
                {
                    yield return digest;
                }
            }
        }
    }

    /// <summary>Deletes temp files left by a process that died mid-put; call before any put runs.</summary>
    public int RemoveLeftoverTempFiles()
    {
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(_tempDirectory, "*" + TempSuffix))
        {
            DeleteQuietly(file);
            removed++;
        }

        return removed;
    }

    /// <summary>Deletes a file, ignoring its absence and the races that make it absent.</summary>
    internal static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone with its directory.
        }
    }

    /// <summary>Updates an existing blob's modification time; its size, or null when it is absent.</summary>
    private long? TryTouch(BlobDigest digest)
    {
        var info = new FileInfo(PathOf(digest));
        if (!info.Exists)
        {
            return null;
        }

        try
        {
            info.LastWriteTimeUtc = DateTime.UtcNow;
        }
        catch (FileNotFoundException)
        {
            // Evicted between the check and the touch: treat it as absent.
            return null;
        }

        return info.Length;
    }
}
