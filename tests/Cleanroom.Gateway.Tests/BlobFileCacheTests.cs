using Cleanroom.Gateway.Cache;

namespace Cleanroom.Gateway.Tests;

public sealed class BlobFileCacheTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void Holds_at_most_its_capacity_and_closes_the_least_recently_used()
    {
        var cache = new BlobFileCache(capacity: 2, maxBlobBytes: 1024);
        var (a, fileA) = Open("a");
        var (b, fileB) = Open("b");
        var (c, fileC) = Open("c");
        cache.HoldOrClose(a, fileA);
        cache.HoldOrClose(b, fileB);
        Assert.NotNull(cache.TryLease(a)); // a is now the most recently used
        fileA.EndLease();

        cache.HoldOrClose(c, fileC);

        Assert.Equal(2, cache.Count);
        Assert.True(fileB.Handle.IsClosed);
        Assert.Null(cache.TryLease(b));
        Assert.False(fileA.Handle.IsClosed);
        Assert.False(fileC.Handle.IsClosed);
        cache.Clear();
        Assert.Equal(0, cache.Count);
        Assert.True(fileA.Handle.IsClosed && fileC.Handle.IsClosed);
    }

    [Fact]
    public void A_blob_over_the_size_bound_is_not_held_and_closes_when_its_reader_ends()
    {
        var cache = new BlobFileCache(capacity: 8, maxBlobBytes: 4);
        var (digest, file) = Open("more than four bytes");
        Assert.True(file.TryLease());

        cache.HoldOrClose(digest, file);

        Assert.Equal(0, cache.Count);
        Assert.False(file.Handle.IsClosed); // the reader's lease keeps it open
        file.EndLease();
        Assert.True(file.Handle.IsClosed);
        Assert.False(file.TryLease());
    }

    [Fact]
    public void A_dropped_file_takes_no_new_lease_and_outlives_the_ones_it_had()
    {
        var cache = new BlobFileCache(capacity: 8, maxBlobBytes: 1024);
        var (digest, file) = Open("x");
        cache.HoldOrClose(digest, file);
        Assert.Same(file, cache.TryLease(digest));

        cache.Drop(digest);

        Assert.Null(cache.TryLease(digest));
        Assert.False(file.Handle.IsClosed);
        var buffer = new byte[1];
        Assert.Equal(1, RandomAccess.Read(file.Handle, buffer, 0));
        file.EndLease();
        Assert.True(file.Handle.IsClosed);
    }

    [Fact]
    public void A_held_file_that_lost_its_name_is_not_leased()
    {
        var cache = new BlobFileCache(capacity: 8, maxBlobBytes: 1024);
        var (digest, file) = Open("y");
        cache.HoldOrClose(digest, file);

        File.Delete(Path.Combine(_scratch.Path, "y"));

        Assert.Null(cache.TryLease(digest));
        Assert.Equal(0, cache.Count);
        Assert.True(file.Handle.IsClosed);
    }

    private (BlobDigest Digest, BlobFile File) Open(string content)
    {
        var path = Path.Combine(_scratch.Path, content.Length > 1 ? "long" : content);
        File.WriteAllText(path, content);
        return (BlobDigest.Of(System.Text.Encoding.UTF8.GetBytes(content)), BlobFile.TryOpen(path)!);
    }
}
