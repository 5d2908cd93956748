using System.Net;
using Cleanroom.Images.Registry;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Registry;

/// <summary>
/// Blob redirects (how registries hand downloads to blob storage): a loopback "registry" that wants Basic auth
/// answers blob GETs with 307 to a second host, which serves the bytes from the real registry. The second host must
/// never see our Authorization.
/// </summary>
public sealed class RedirectTests(RegistryFixture fixture) : IClassFixture<RegistryFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task A_blob_redirect_to_another_host_is_followed_without_our_authorization()
    {
        await using var storage = LoopbackHttpServer.Start(context => HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri));
        await using var registry = LoopbackHttpServer.Start(context => RedirectingRegistryAsync(context, storage.BaseUri));
        var credentials = RegistryCredentialStore.Empty.With(registry.Host, new RegistryCredential("alice", "pw"));
        using var client = RegistryFixture.NewClient(credentials);
        var image = ImageReference.Parse($"{registry.Host}/test/app:v1");
        var layer = fixture.App.Layers[0];
        var path = fixture.DownloadPath();

        await client.DownloadBlobAsync(image, layer.Descriptor, path, null, Ct);
        var config = await client.GetBlobBytesAsync(image, fixture.App.ConfigBlob.Descriptor, 1 << 20, Ct);

        Assert.Equal(layer.Blob.ReadAllBytes(), await File.ReadAllBytesAsync(path, Ct));
        Assert.Equal(fixture.App.ConfigBlob.ReadAllBytes(), config);
        Assert.Contains(registry.Requests, r => r.PathAndQuery.Contains("/blobs/", StringComparison.Ordinal) && r.Header("Authorization")?.StartsWith("Basic ", StringComparison.Ordinal) == true);
        Assert.Equal(2, storage.Requests.Count);
        Assert.All(storage.Requests, r => Assert.Null(r.Header("Authorization")));
    }

    [Fact]
    public async Task The_redirect_hook_sees_each_target_and_can_refuse_it()
    {
        await using var storage = LoopbackHttpServer.Start(context => HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri));
        await using var registry = LoopbackHttpServer.Start(context => RedirectingRegistryAsync(context, storage.BaseUri));
        var credentials = RegistryCredentialStore.Empty.With(registry.Host, new RegistryCredential("alice", "pw"));
        var seen = new List<Uri>();
        using var client = new RegistryClient(new RegistryClientOptions
        {
            Credentials = credentials,
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            CheckRedirect = target =>
            {
                lock (seen)
                {
                    seen.Add(target);
                }

                throw new InvalidOperationException("not allowed: " + target.Authority);
            },
        });
        var image = ImageReference.Parse($"{registry.Host}/test/app:v1");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => client.OpenBlobAsync(image, fixture.App.Layers[0].Blob.Digest.ToString(), 1 << 30, Ct));

        Assert.Equal("not allowed: " + storage.Host, error.Message);
        Assert.Equal(storage.Host, Assert.Single(seen).Authority);
        Assert.Empty(storage.Requests);
        Assert.Equal(MediaTypes.OciManifest, (await client.GetManifestBytesAsync(image, "v1", 1 << 20, Ct)).MediaType);
    }

    [Fact]
    public async Task A_redirect_loop_is_cut_off()
    {
        await using var looping = LoopbackHttpServer.Start(context =>
        {
            context.Response.StatusCode = (int)HttpStatusCode.Found;
            context.Response.RedirectLocation = context.Request.Url!.PathAndQuery;
            return Task.CompletedTask;
        });
        using var client = RegistryFixture.NewClient();

        var error = await Assert.ThrowsAsync<RegistryException>(() =>
            client.DownloadBlobAsync(ImageReference.Parse($"{looping.Host}/test/app:v1"), fixture.App.Layers[0].Descriptor, fixture.DownloadPath(), null, Ct));

        Assert.Equal(RegistryErrorKind.Protocol, error.Kind);
        Assert.Contains("redirected", error.Message, StringComparison.Ordinal);
        Assert.Equal(6, looping.Requests.Count);
    }

    /// <summary>Basic auth on everything; manifests served from the real registry, blobs redirected to storage.</summary>
    private async Task RedirectingRegistryAsync(HttpListenerContext context, Uri storage)
    {
        if (context.Request.Headers["Authorization"] is null)
        {
            context.Response.StatusCode = (int)HttpStatusCode.Unauthorized;
            context.Response.AddHeader("WWW-Authenticate", "Basic realm=\"test registry\"");
            return;
        }

        if (context.Request.Url!.AbsolutePath.Contains("/blobs/", StringComparison.Ordinal))
        {
            context.Response.StatusCode = (int)HttpStatusCode.TemporaryRedirect;
            context.Response.RedirectLocation = new Uri(storage, context.Request.Url.PathAndQuery + "?signature=test").ToString();
            return;
        }

        await HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri);
    }
}
