using System.Net;
using Cleanroom.Gateway.Cache;
using Cleanroom.Gateway.Routes.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.Oci;

/// <summary>
/// A registry that hands blob downloads to storage on another host (as registries do with CDNs): the redirect is
/// followed only when the requesting sandbox's policy allows that host too.
/// </summary>
public sealed class OciRedirectTests(OciRegistryFixture fixture) : IClassFixture<OciRegistryFixture>
{
    [Fact]
    public async Task A_blob_redirect_to_a_host_the_policy_does_not_allow_is_refused_and_nothing_is_cached()
    {
        await using var storage = LoopbackHttpServer.Start(context => HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri));
        await using var h = new OciHarness(fixture.Registry.BaseUri, upstream: context => RedirectBlobsAsync(context, storage.BaseUri));
        var layer = fixture.App.Layers[0].Blob;

        await using var answer = await h.Blob("test/app", layer.Digest.ToString());

        Assert.Equal(403, answer.Status);
        Assert.Equal("host_not_allowed", answer.Reason);
        Assert.Contains($"127.0.0.1:{storage.Port}", answer.Message, StringComparison.Ordinal);
        Assert.Empty(storage.Requests);
        Assert.Null(h.Cache.GetBlob(BlobDigest.Parse(layer.Digest.ToString())));
    }

    [Fact]
    public async Task A_blob_redirect_to_an_allowed_host_is_followed()
    {
        await using var storage = LoopbackHttpServer.Start(context => HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri));
        await using var h = new OciHarness(fixture.Registry.BaseUri, upstream: context => RedirectBlobsAsync(context, storage.BaseUri));
        var client = OciTestPolicies.Client($"[{OciHarness.Host}:443, \"127.0.0.1:{storage.Port}\"]", "sb-cdn");
        var layer = fixture.App.Layers[0].Blob;

        var answer = await h.Blob("test/app", layer.Digest.ToString(), client: client);

        Assert.Equal(layer.ReadAllBytes(), await OciHarness.ReadBody(answer));
        Assert.Single(storage.Requests);
        Assert.Null(storage.Requests[0].Header("Authorization"));
    }

    private async Task RedirectBlobsAsync(HttpListenerContext context, Uri storage)
    {
        if (context.Request.Url!.AbsolutePath.Contains("/blobs/", StringComparison.Ordinal))
        {
            context.Response.StatusCode = (int)HttpStatusCode.TemporaryRedirect;
            context.Response.RedirectLocation = new Uri(storage, context.Request.Url.PathAndQuery + "?signature=test").ToString();
            return;
        }

        await HttpForwarder.ForwardAsync(context, fixture.Registry.BaseUri);
    }
}
