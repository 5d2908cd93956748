using Cleanroom.Images.Rootfs;
using Cleanroom.Images.Tests.Registry;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Manager;

/// <summary>
/// The store's quota: a new image evicts unused images, least recently used first; leased images are never evicted
/// or removed; an image that cannot fit even so is refused before its layers are downloaded.
/// </summary>
public sealed class StoreQuotaTests(RegistryFixture fixture) : IClassFixture<RegistryFixture>
{
    /// <summary>Room for two small test images (each gets the minimum file system), not three.</summary>
    private const long RoomForTwo = (RootfsSizing.MinBytes * 2) + (RootfsSizing.MinBytes / 2);

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task A_new_image_evicts_the_least_recently_used_one()
    {
        using var scope = new ImageManagerScope(maxStoreBytes: RoomForTwo);
        var a = await PullUniqueAsync(scope, "quota/lru-a");
        var b = await PullUniqueAsync(scope, "quota/lru-b");
        await scope.Manager.EnsureAsync(ImageReference.Parse(fixture.Registry.Reference("quota/lru-a:v1")), Ct); // a is now the more recent

        var c = await PullUniqueAsync(scope, "quota/lru-c");

        Assert.Equal([c.Digest, a.Digest], scope.Manager.List().Select(i => i.Digest));
        Assert.False(File.Exists(b.RootfsPath));
        Assert.True(scope.Manager.List().Sum(i => i.FilesystemBytes) <= RoomForTwo);
    }

    [Fact]
    public async Task A_leased_image_is_not_evicted_even_when_it_is_the_least_recently_used()
    {
        using var scope = new ImageManagerScope(maxStoreBytes: RoomForTwo);
        var a = await PullUniqueAsync(scope, "quota/lease-a");
        using var lease = scope.Manager.AcquireLease(a.Digest);
        var b = await PullUniqueAsync(scope, "quota/lease-b");

        var c = await PullUniqueAsync(scope, "quota/lease-c");

        Assert.Equal([c.Digest, a.Digest], scope.Manager.List().Select(i => i.Digest));
        Assert.False(File.Exists(b.RootfsPath));
        Assert.True(File.Exists(a.RootfsPath));
    }

    [Fact]
    public async Task An_image_that_cannot_fit_beside_the_images_in_use_is_refused_before_its_layers_download()
    {
        var tooMany = await fixture.PushUniqueImageAsync("quota/full-c");
        await using var recorder = LoopbackHttpServer.Start(context => HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri));
        using var scope = new ImageManagerScope(maxStoreBytes: RoomForTwo);
        var a = await PullUniqueAsync(scope, "quota/full-a");
        var b = await PullUniqueAsync(scope, "quota/full-b");
        var leaseA = scope.Manager.AcquireLease(a.Digest);
        using var leaseB = scope.Manager.AcquireLease(b.Digest);
        var reference = ImageReference.Parse($"{recorder.Host}/quota/full-c:v1");

        var error = await Assert.ThrowsAsync<ImageStoreFullException>(() => scope.Manager.EnsureAsync(reference, Ct));

        Assert.Contains("MaxStoreBytes", error.Message, StringComparison.Ordinal);
        Assert.Contains(recorder.Requests, r => r.PathAndQuery.Contains("/manifests/", StringComparison.Ordinal));
        Assert.DoesNotContain(recorder.Requests, r => r.PathAndQuery.Contains("/blobs/", StringComparison.Ordinal));
        Assert.Equal(2, scope.Manager.List().Count);
        Assert.Empty(Directory.EnumerateFileSystemEntries(scope.Options.DownloadsDirectory));

        leaseA.Dispose();
        var c = await scope.Manager.EnsureAsync(reference, Ct);

        Assert.Equal(tooMany.ManifestDigest, c.Digest);
        Assert.Equal([c.Digest, b.Digest], scope.Manager.List().Select(i => i.Digest));
    }

    [Fact]
    public async Task An_image_that_turns_out_too_large_once_built_is_refused_and_leaves_nothing()
    {
        // 320 MiB of zeros compress to almost nothing: the estimate from the download fits, the built file system
        // (content x 1.5 + head-room, about 612 MiB) does not.
        var image = new OciImageBuilder(fixture.Scratch.Combine("blobs")).AddLayer(l => l.File("zeros", new Layers.ZeroStream(320L << 20))).Build();
        await fixture.Pusher.PushImageAsync("quota/grows", "v1", image);
        using var scope = new ImageManagerScope(maxStoreBytes: 600L << 20);

        var error = await Assert.ThrowsAsync<ImageStoreFullException>(() => scope.Manager.EnsureAsync(ImageReference.Parse(fixture.Registry.Reference("quota/grows:v1")), Ct));

        Assert.Contains("MaxStoreBytes", error.Message, StringComparison.Ordinal);
        scope.AssertNothingLeft();
    }

    [Fact]
    public async Task Remove_refuses_a_leased_image_until_the_lease_is_released()
    {
        using var scope = new ImageManagerScope();
        var (image, lease) = await scope.Manager.EnsureLeasedAsync(await PushAsync("quota/rm"), Ct);
        var second = scope.Manager.AcquireLease(image.Digest);
        lease.Dispose();
        lease.Dispose(); // a second dispose must not release the other holder's lease

        var error = Assert.Throws<ImageInUseException>(() => scope.Manager.Remove(image.Digest.ToString(), _ => null));
        Assert.Contains("1 lease", error.Message, StringComparison.Ordinal);

        second.Dispose();
        scope.Manager.Remove(image.Digest.ToString(), _ => null);
        scope.AssertNothingLeft();
    }

    [Fact]
    public async Task Prune_removes_every_image_without_a_lease_or_a_sandbox_and_a_dry_run_removes_nothing()
    {
        using var scope = new ImageManagerScope();
        var old = await PullUniqueAsync(scope, "quota/prune-old");
        var leased = await PullUniqueAsync(scope, "quota/prune-leased");
        var booted = await PullUniqueAsync(scope, "quota/prune-booted");
        var recent = await PullUniqueAsync(scope, "quota/prune-recent");
        using var lease = scope.Manager.AcquireLease(leased.Digest);
        string? SandboxOf(Digest digest) => digest == booted.Digest ? "sandbox-1" : null;

        var dryRun = scope.Manager.Prune(SandboxOf, dryRun: true);

        Assert.Equal([old.Digest, recent.Digest], dryRun.Removed.Select(i => i.Digest));
        Assert.Equal(4, scope.Manager.List().Count);

        var pruned = scope.Manager.Prune(SandboxOf, dryRun: false);

        Assert.Equal([old.Digest, recent.Digest], pruned.Removed.Select(i => i.Digest));
        Assert.Equal(old.FilesystemBytes + recent.FilesystemBytes, pruned.FreedBytes);
        Assert.Equal(new HashSet<Digest> { booted.Digest, leased.Digest }, scope.Manager.List().Select(i => i.Digest).ToHashSet());
        Assert.False(File.Exists(old.RootfsPath));
        Assert.False(File.Exists(recent.RootfsPath));
        Assert.Empty(scope.Manager.Prune(SandboxOf, dryRun: false).Removed);
    }

    [Fact]
    public void A_lease_on_an_image_not_in_the_store_is_refused()
    {
        using var scope = new ImageManagerScope();

        Assert.Throws<ImageNotFoundException>(() => scope.Manager.AcquireLease(Digest.Of("nothing"u8)));
    }

    private async Task<ImageReference> PushAsync(string repository)
    {
        await fixture.PushUniqueImageAsync(repository);
        return ImageReference.Parse(fixture.Registry.Reference(repository + ":v1"));
    }

    private async Task<ImageRecord> PullUniqueAsync(ImageManagerScope scope, string repository) =>
        await scope.Manager.EnsureAsync(await PushAsync(repository), Ct);
}
