using System.Security.Cryptography;
using Cleanroom.Gateway.Cache;

namespace Cleanroom.Gateway.Tests;

public sealed class BlobStoreTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private BlobStore NewStore(long maxObjectBytes = 1 << 20) => new(_scratch.Path, maxObjectBytes);

    /// <summary>Files other than committed blobs: a partial put would show up here.</summary>
    private List<string> TempFiles() => _scratch.Files().Where(f => f.Contains(".tmp", StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task Put_stores_the_bytes_under_their_sha256_in_a_two_level_layout()
    {
        var store = NewStore();
        var bytes = TestStreams.Bytes(300_000);

        var result = await store.PutAsync(new MemoryStream(bytes), expected: null, CancellationToken.None);

        var hex = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Assert.Equal(hex, result.Digest.Hex);
        Assert.Equal(bytes.Length, result.Size);
        Assert.False(result.AlreadyPresent);
        Assert.Equal([Path.Combine("blobs", hex[..2], hex)], _scratch.Files());
        Assert.Equal(bytes, await File.ReadAllBytesAsync(store.PathOf(result.Digest)));
    }

    [Fact]
    public async Task Put_of_present_content_touches_the_existing_blob()
    {
        var store = NewStore();
        var bytes = TestStreams.Bytes(1000);
        var first = await store.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);
        var path = store.PathOf(first.Digest);
        File.SetLastWriteTimeUtc(path, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        var second = await store.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);

        Assert.True(second.AlreadyPresent);
        Assert.True(File.GetLastWriteTimeUtc(path) > new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.Single(_scratch.Files());
    }

    [Fact]
    public async Task Committing_present_content_replaces_a_corrupt_file_with_the_verified_copy()
    {
        var store = NewStore();
        var bytes = TestStreams.Bytes(20_000);
        var first = await store.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);
        var path = store.PathOf(first.Digest);
        var rotted = (byte[])bytes.Clone();
        rotted[777] ^= 0xff;
        await File.WriteAllBytesAsync(path, rotted);

        var second = await store.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);

        Assert.True(second.AlreadyPresent);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
        await using var stream = store.OpenRead(first.Digest)!;
        await stream.CopyToAsync(Stream.Null);
        Assert.Empty(TempFiles());
    }

    [Fact]
    public async Task Put_with_a_present_expected_digest_does_not_read_the_source()
    {
        var store = NewStore();
        var bytes = TestStreams.Bytes(1000);
        var first = await store.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);
        var source = new MemoryStream(bytes);

        var second = await store.PutAsync(source, first.Digest, CancellationToken.None);

        Assert.True(second.AlreadyPresent);
        Assert.Equal(0, source.Position);
    }

    [Fact]
    public async Task Put_with_a_wrong_expected_digest_throws_and_stores_nothing()
    {
        var store = NewStore();
        var wanted = BlobDigest.Of("something else"u8);

        var error = await Assert.ThrowsAsync<CacheIntegrityException>(
            () => store.PutAsync(new MemoryStream(TestStreams.Bytes(5000)), wanted, CancellationToken.None));

        Assert.Equal(wanted, error.Expected);
        Assert.Contains(wanted.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was stored", error.Message, StringComparison.Ordinal);
        Assert.Empty(_scratch.Files());
    }

    [Fact]
    public async Task Put_past_the_size_bound_throws_while_streaming_and_stores_nothing()
    {
        var store = NewStore(maxObjectBytes: 1 << 20);

        // Endless: the bound, not the source, ends the copy.
        await Assert.ThrowsAsync<ObjectTooLargeException>(() => store.PutAsync(TestStreams.Endless(), null, CancellationToken.None));

        Assert.Empty(_scratch.Files());
    }

    [Fact]
    public async Task Put_of_exactly_the_size_bound_is_accepted()
    {
        var store = NewStore(maxObjectBytes: 4096);

        var result = await store.PutAsync(new MemoryStream(TestStreams.Bytes(4096)), null, CancellationToken.None);

        Assert.Equal(4096, result.Size);
    }

    [Fact]
    public async Task Put_whose_source_fails_part_way_stores_nothing()
    {
        var store = NewStore();

        await Assert.ThrowsAsync<IOException>(
            () => store.PutAsync(TestStreams.FailingAfter(TestStreams.Bytes(200_000)), null, CancellationToken.None));

        Assert.Empty(_scratch.Files());
    }

    [Fact]
    public async Task Put_cancelled_part_way_stores_nothing()
    {
        var store = NewStore();
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cancellation = new CancellationTokenSource();

        var put = store.PutAsync(TestStreams.BlockingAfter(TestStreams.Bytes(200_000), reached), null, cancellation.Token);
        await reached.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotEmpty(TempFiles()); // the partial bytes were on disk while the copy ran
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => put);
        Assert.Empty(_scratch.Files());
    }

    [Fact]
    public async Task A_disposed_stage_leaves_nothing_and_a_committed_one_cannot_be_committed_twice()
    {
        var store = NewStore();
        var staged = await store.StageAsync(new MemoryStream(TestStreams.Bytes(100)), null, CancellationToken.None);
        Assert.Single(TempFiles());
        staged.Dispose();
        Assert.Empty(_scratch.Files());

        using var again = await store.StageAsync(new MemoryStream(TestStreams.Bytes(100)), null, CancellationToken.None);
        store.Commit(again);
        Assert.Throws<InvalidOperationException>(() => store.Commit(again));
        Assert.Empty(TempFiles());
    }

    [Fact]
    public async Task A_commit_whose_directory_fsync_fails_leaves_no_blob_behind()
    {
        var store = new BlobStore(_scratch.Path, 1 << 20) { FlushDirectory = _ => throw new IOException("fsync: EIO") };
        var bytes = TestStreams.Bytes(10_000);
        using var staged = await store.StageAsync(new MemoryStream(bytes), null, CancellationToken.None);

        Assert.Throws<IOException>(() => store.Commit(staged));

        Assert.False(store.Contains(staged.Digest));
        Assert.Empty(store.EnumerateDigests());
        Assert.Empty(TempFiles());
    }

    [Fact]
    public async Task Leftover_temp_files_from_a_crash_are_removed()
    {
        var store = NewStore();
        var leftover = Path.Combine(_scratch.Path, "blobs", ".tmp", "dead.part");
        await File.WriteAllTextAsync(leftover, "half a blob");

        Assert.Equal(1, store.RemoveLeftoverTempFiles());
        Assert.False(File.Exists(leftover));
    }

    [Fact]
    public async Task OpenRead_returns_the_bytes_and_null_for_an_absent_blob()
    {
        var store = NewStore();
        var bytes = TestStreams.Bytes(400_000);
        var put = await store.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);

        await using (var stream = store.OpenRead(put.Digest))
        {
            Assert.NotNull(stream);
            Assert.Equal(bytes.Length, stream.Length);
            var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(bytes, copy.ToArray());
        }

        Assert.Null(store.OpenRead(BlobDigest.Of("absent"u8)));
    }

    [Fact]
    public async Task Zero_length_reads_are_not_end_of_file_and_leave_a_good_blob_alone()
    {
        var store = NewStore();
        var bytes = TestStreams.Bytes(50_000);
        var put = await store.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);
        var reported = new List<BlobDigest>();

        await using (var stream = store.OpenRead(put.Digest, reported.Add)!)
        {
            // Every overload, before any data and part way through.
            Assert.Equal(0, stream.Read([], 0, 0));
            Assert.Equal(0, stream.Read(Span<byte>.Empty));
            Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
            var head = new byte[1000];
            await stream.ReadExactlyAsync(head);
            Assert.Equal(0, await stream.ReadAsync(new byte[10].AsMemory(5, 0)));
            Assert.Equal(0, stream.Read(new byte[10].AsSpan(3, 0)));
            var rest = new MemoryStream();
            await stream.CopyToAsync(rest);
            Assert.Equal(bytes, head.Concat(rest.ToArray()).ToArray());
        }

        Assert.Empty(reported);
        Assert.True(store.Contains(put.Digest));
    }

    [Fact]
    public async Task OpenRead_of_a_corrupt_blob_throws_at_the_end_and_removes_it()
    {
        var store = NewStore();
        var bytes = TestStreams.Bytes(300_000);
        var put = await store.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);
        var path = store.PathOf(put.Digest);
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            file.Position = 123_456;
            file.WriteByte((byte)(bytes[123_456] ^ 0xff));
        }

        var reported = new List<BlobDigest>();
        await using var stream = store.OpenRead(put.Digest, reported.Add)!;
        var error = await Assert.ThrowsAsync<CacheIntegrityException>(() => stream.CopyToAsync(Stream.Null));

        Assert.Equal(put.Digest, error.Expected);
        Assert.Null(error.Actual); // the recorded read check caught it; no SHA-256 was computed
        Assert.Equal([put.Digest], reported);
        Assert.False(File.Exists(path));

        // Reading on repeats the verdict without reporting twice.
        await Assert.ThrowsAsync<CacheIntegrityException>(async () => _ = await stream.ReadAsync(new byte[10]));
        Assert.Single(reported);
    }

    [Fact]
    public async Task A_truncated_blob_is_corrupt_too()
    {
        var store = NewStore();
        var put = await store.PutAsync(new MemoryStream(TestStreams.Bytes(10_000)), null, CancellationToken.None);
        File.WriteAllBytes(store.PathOf(put.Digest), TestStreams.Bytes(10_000)[..9_999]);

        await using var stream = store.OpenRead(put.Digest)!;
        await Assert.ThrowsAsync<CacheIntegrityException>(() => stream.CopyToAsync(Stream.Null));
        Assert.False(store.Contains(put.Digest));
    }

    [Fact]
    public async Task EnumerateDigests_lists_blobs_and_skips_stray_names()
    {
        var store = NewStore();
        var a = await store.PutAsync(new MemoryStream([1]), null, CancellationToken.None);
        var b = await store.PutAsync(new MemoryStream([2]), null, CancellationToken.None);
        Directory.CreateDirectory(Path.Combine(_scratch.Path, "blobs", "zz"));
        await File.WriteAllTextAsync(Path.Combine(_scratch.Path, "blobs", "zz", "not-a-digest"), "");

        Assert.Equal(new[] { a.Digest.Hex, b.Digest.Hex }.Order(StringComparer.Ordinal), store.EnumerateDigests().Select(d => d.Hex).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_put_records_the_read_check_with_the_file()
    {
        var store = NewStore();
        var bytes = TestStreams.Bytes(200_000);
        var put = await store.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);

        using var file = File.OpenHandle(store.PathOf(put.Digest));
        Assert.Equal(System.IO.Hashing.XxHash128.HashToUInt128(bytes), BlobReadCheck.TryRead(file));
    }

    [Fact]
    public async Task A_blob_without_a_read_check_is_verified_against_its_sha256()
    {
        var store = NewStore();
        var bytes = TestStreams.Bytes(100_000);
        var good = await store.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);
        var bad = await store.PutAsync(new MemoryStream(TestStreams.Bytes(50_000)), null, CancellationToken.None);

        // A copy is a new inode without the attribute: a blob written before read checks existed, or put back by hand.
        ReplaceWithoutAttribute(store.PathOf(good.Digest), bytes);
        var tampered = TestStreams.Bytes(50_000);
        tampered[49_999] ^= 1;
        ReplaceWithoutAttribute(store.PathOf(bad.Digest), tampered);

        await using (var stream = store.OpenRead(good.Digest)!)
        {
            var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            Assert.Equal(bytes, copy.ToArray());
        }

        await using var corrupt = store.OpenRead(bad.Digest)!;
        var error = await Assert.ThrowsAsync<CacheIntegrityException>(() => corrupt.CopyToAsync(Stream.Null));
        Assert.Equal(BlobDigest.FromHash(SHA256.HashData(tampered)), error.Actual);
        Assert.False(store.Contains(bad.Digest));
    }

    [Fact]
    public async Task A_read_check_that_does_not_match_the_bytes_fails_the_read()
    {
        var store = NewStore();
        var put = await store.PutAsync(new MemoryStream(TestStreams.Bytes(10_000)), null, CancellationToken.None);
        using (var file = File.OpenHandle(store.PathOf(put.Digest), FileMode.Open, FileAccess.ReadWrite))
        {
            Assert.True(BlobReadCheck.TryWrite(file, UInt128.One));
        }

        await using var stream = store.OpenRead(put.Digest)!;
        await Assert.ThrowsAsync<CacheIntegrityException>(() => stream.CopyToAsync(Stream.Null));
        Assert.False(store.Contains(put.Digest));
    }

    [Fact]
    public async Task A_small_blob_deleted_behind_the_stores_back_after_a_read_is_absent_on_the_next()
    {
        var store = NewStore();
        var put = await store.PutAsync(new MemoryStream(TestStreams.Bytes(20_000)), null, CancellationToken.None);
        await ReadAllAsync(store, put.Digest); // its file is now held open for the next hit

        File.Delete(store.PathOf(put.Digest));

        Assert.Null(store.OpenRead(put.Digest));
    }

    [Fact]
    public async Task A_small_blob_replaced_by_a_rename_after_a_read_is_read_from_its_new_file()
    {
        var store = NewStore();
        var bytes = TestStreams.Bytes(20_000);
        var put = await store.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);
        Assert.Equal(bytes, await ReadAllAsync(store, put.Digest));

        var tampered = (byte[])bytes.Clone();
        tampered[7] ^= 1;
        ReplaceWithoutAttribute(store.PathOf(put.Digest), tampered);

        // The held descriptor still reads the good old inode; the store must answer for the file under the name.
        await using var stream = store.OpenRead(put.Digest)!;
        var error = await Assert.ThrowsAsync<CacheIntegrityException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Equal(BlobDigest.FromHash(SHA256.HashData(tampered)), error.Actual);
        Assert.False(store.Contains(put.Digest));
    }

    [Fact]
    public async Task A_small_blob_changed_in_place_after_a_read_fails_its_next_read()
    {
        var store = NewStore();
        var bytes = TestStreams.Bytes(20_000);
        var put = await store.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);
        await ReadAllAsync(store, put.Digest);

        await using (var file = new FileStream(store.PathOf(put.Digest), FileMode.Open, FileAccess.Write))
        {
            file.Position = 19_999;
            file.WriteByte((byte)(bytes[19_999] ^ 0xff));
        }

        var reported = new List<BlobDigest>();
        await using var stream = store.OpenRead(put.Digest, reported.Add)!;
        await Assert.ThrowsAsync<CacheIntegrityException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Equal([put.Digest], reported);
        Assert.False(store.Contains(put.Digest));
    }

    [Fact]
    public async Task A_read_in_progress_finishes_with_the_right_bytes_when_its_blob_is_deleted()
    {
        var store = NewStore();
        var bytes = TestStreams.Bytes(20_000);
        var put = await store.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);
        await ReadAllAsync(store, put.Digest);

        await using var stream = store.OpenRead(put.Digest)!;
        var head = new byte[1000];
        await stream.ReadExactlyAsync(head);
        Assert.True(store.Delete(put.Digest)); // closes the held file; this reader's lease keeps the descriptor
        var rest = new MemoryStream();
        await stream.CopyToAsync(rest);

        Assert.Equal(bytes, head.Concat(rest.ToArray()).ToArray());
        Assert.Null(store.OpenRead(put.Digest));
    }

    [Fact]
    public async Task A_small_blob_whose_file_grew_is_read_as_it_was_and_a_shrunk_one_is_corrupt()
    {
        var store = NewStore();
        var bytes = TestStreams.Bytes(20_000);
        var grown = await store.PutAsync(new MemoryStream(bytes), null, CancellationToken.None);
        var shrunk = await store.PutAsync(new MemoryStream(TestStreams.Bytes(30_000)), null, CancellationToken.None);
        await ReadAllAsync(store, grown.Digest);
        await ReadAllAsync(store, shrunk.Digest);

        await using (var file = new FileStream(store.PathOf(grown.Digest), FileMode.Append, FileAccess.Write))
        {
            file.Write([1, 2, 3]);
        }

        await using (var file = new FileStream(store.PathOf(shrunk.Digest), FileMode.Open, FileAccess.Write))
        {
            file.SetLength(29_000);
        }

        Assert.Equal(bytes, await ReadAllAsync(store, grown.Digest));
        await using var stream = store.OpenRead(shrunk.Digest)!;
        await Assert.ThrowsAsync<CacheIntegrityException>(() => stream.CopyToAsync(Stream.Null));
    }

    private static async Task<byte[]> ReadAllAsync(BlobStore store, BlobDigest digest)
    {
        await using var stream = store.OpenRead(digest)!;
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static void ReplaceWithoutAttribute(string path, byte[] bytes)
    {
        var fresh = path + ".fresh";
        File.WriteAllBytes(fresh, bytes);
        File.Move(fresh, path, overwrite: true);
    }
}
