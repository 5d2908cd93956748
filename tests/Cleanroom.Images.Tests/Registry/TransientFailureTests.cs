using System.Diagnostics;
using System.Net;
using Cleanroom.Images.Registry;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Registry;

/// <summary>
/// Retries through a loopback proxy in front of the real registry that fails on purpose: 5xx, 429 with
/// Retry-After, and a connection cut mid-body (the retry must resume from the bytes already on disk).
/// </summary>
public sealed class TransientFailureTests(RegistryFixture fixture) : IClassFixture<RegistryFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task A_server_error_is_retried()
    {
        var failures = 1;
        await using var proxy = LoopbackHttpServer.Start(context =>
        {
            if (Interlocked.Decrement(ref failures) >= 0)
            {
                context.Response.StatusCode = (int)HttpStatusCode.BadGateway;
                return Task.CompletedTask;
            }

            return HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri);
        });
        using var client = RegistryFixture.NewClient();

        var manifest = await client.GetManifestAsync(ImageReference.Parse($"{proxy.Host}/test/app:v1"), "v1", Ct);

        Assert.Equal(fixture.App.ManifestDigest, manifest.Digest);
        Assert.Equal(2, proxy.Requests.Count);
    }

    [Fact]
    public async Task Too_many_requests_waits_as_long_as_retry_after_says()
    {
        var failures = 1;
        await using var proxy = LoopbackHttpServer.Start(context =>
        {
            if (Interlocked.Decrement(ref failures) >= 0)
            {
                context.Response.StatusCode = (int)HttpStatusCode.TooManyRequests;
                context.Response.AddHeader("Retry-After", "1");
                return Task.CompletedTask;
            }

            return HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri);
        });
        using var client = RegistryFixture.NewClient();
        var clock = Stopwatch.StartNew();

        var digest = await client.ResolveDigestAsync(ImageReference.Parse($"{proxy.Host}/test/app:v1"), Ct);

        Assert.Equal(fixture.App.ManifestDigest, digest);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(950), $"retried after {clock.ElapsedMilliseconds} ms; Retry-After asked for 1 s");
    }

    [Fact]
    public async Task A_connection_cut_mid_blob_is_resumed_from_what_arrived()
    {
        var image = await fixture.PushUniqueImageAsync("flaky/cut", 512 * 1024);
        var layer = image.Layers[0];
        var cuts = 1;
        await using var proxy = LoopbackHttpServer.Start(context =>
        {
            var cut = context.Request.Url!.AbsolutePath.Contains("/blobs/", StringComparison.Ordinal) && Interlocked.Decrement(ref cuts) >= 0;
            return HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri, abortAfterBytes: cut ? layer.Descriptor.Size / 2 : null);
        });
        using var client = RegistryFixture.NewClient();
        var path = fixture.DownloadPath();

        await client.DownloadBlobAsync(ImageReference.Parse($"{proxy.Host}/flaky/cut:v1"), layer.Descriptor, path, null, Ct);

        Assert.Equal(layer.Blob.ReadAllBytes(), await File.ReadAllBytesAsync(path, Ct));
        Assert.Equal(2, proxy.Requests.Count);
        var resumedAt = proxy.Requests[1].Header("Range");
        Assert.NotNull(resumedAt);
        Assert.StartsWith("bytes=", resumedAt, StringComparison.Ordinal);
        Assert.True(long.Parse(resumedAt[6..^1], System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task A_download_that_keeps_failing_is_unavailable_and_keeps_its_partial_file()
    {
        var image = await fixture.PushUniqueImageAsync("flaky/always", 256 * 1024);
        var layer = image.Layers[0];
        await using var proxy = LoopbackHttpServer.Start(context =>
            HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri, abortAfterBytes: context.Request.Headers["Range"] is null ? 64 * 1024 : 0));
        using var client = RegistryFixture.NewClient(maxAttempts: 2);
        var path = fixture.DownloadPath();

        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            client.DownloadBlobAsync(ImageReference.Parse($"{proxy.Host}/flaky/always:v1"), layer.Descriptor, path, null, Ct));

        Assert.Equal(RegistryErrorKind.Unavailable, error.Kind);
        Assert.False(File.Exists(path));
        Assert.True(new FileInfo(path + ".partial").Length > 0, "the bytes that arrived are kept for the next pull");
    }
}
