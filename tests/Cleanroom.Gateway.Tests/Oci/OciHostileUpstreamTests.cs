using System.Text;
using Cleanroom.Gateway.Routes.Oci;
using Cleanroom.Oci;

namespace Cleanroom.Gateway.Tests.Oci;

/// <summary>Upstreams that serve what a registry should not: only OCI and Docker v2 manifests and indexes pass.</summary>
public sealed class OciHostileUpstreamTests
{
    [Theory]
    [InlineData("application/vnd.example.thing+json", "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.example.thing+json\"}")]
    [InlineData("application/vnd.docker.distribution.manifest.v1+prettyjws", "{\"schemaVersion\":1,\"name\":\"test/app\"}")]
    [InlineData(MediaTypes.OciManifest, "{\"schemaVersion\":1}")]
    [InlineData(MediaTypes.OciManifest, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}")]
    [InlineData(MediaTypes.OciManifest, "not json at all")]
    [InlineData(MediaTypes.OciManifest, "[2]")]
    [InlineData("application/json", "{\"schemaVersion\":2}")]
    [InlineData("text/html", "{\"schemaVersion\":2,\"mediaType\":\"text/html\"}")]
    public async Task A_manifest_of_another_kind_is_refused_and_not_cached(string contentType, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        await using var h = new OciHarness(new Uri("http://127.0.0.1:1/"), upstream: async context =>
        {
            context.Response.ContentType = contentType;
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
        });

        await using var answer = await h.Manifest("test/app", "v1");

        Assert.Equal(502, answer.Status);
        Assert.Equal(OciReasons.UpstreamError, answer.Reason);
        Assert.Equal(OciErrorCodes.ManifestInvalid, answer.ErrorCode);
        Assert.Equal(0, h.Cache.BlobCount);
    }

    [Fact]
    public async Task A_manifest_without_a_content_type_is_served_as_the_type_it_declares()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}");
        await using var h = new OciHarness(new Uri("http://127.0.0.1:1/"), upstream: async context =>
        {
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
        });

        var answer = await h.Manifest("test/app", "v1");

        Assert.Equal(MediaTypes.OciIndex, answer.ContentType);
        Assert.Equal(bytes, await OciHarness.ReadBody(answer));
    }

    [Fact]
    public async Task A_manifest_whose_digest_header_disagrees_with_its_bytes_is_refused()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}");
        await using var h = new OciHarness(new Uri("http://127.0.0.1:1/"), upstream: async context =>
        {
            context.Response.ContentType = MediaTypes.OciIndex;
            context.Response.AddHeader("Docker-Content-Digest", "sha256:" + new string('1', 64));
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
        });

        await using var answer = await h.Manifest("test/app", "v1");

        Assert.Equal(502, answer.Status);
        Assert.Equal(OciErrorCodes.Unknown, answer.ErrorCode);
        Assert.Equal(0, h.Cache.BlobCount);
    }

    [Fact]
    public async Task A_manifest_asked_for_by_digest_that_serves_other_bytes_is_refused()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}");
        await using var h = new OciHarness(new Uri("http://127.0.0.1:1/"), upstream: async context =>
        {
            context.Response.ContentType = MediaTypes.OciIndex;
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
        });

        await using var answer = await h.Manifest("test/app", "sha256:" + new string('2', 64));

        Assert.Equal(502, answer.Status);
        Assert.Contains("does not match", answer.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Cache.BlobCount);
    }

    [Fact]
    public async Task A_blob_longer_than_the_cache_takes_is_refused_from_its_content_length()
    {
        await using var h = new OciHarness(new Uri("http://127.0.0.1:1/"), upstream: context =>
        {
            context.Response.ContentLength64 = 1L << 30;
            context.Response.Abort();
            return Task.CompletedTask;
        });

        await using var answer = await h.Blob("test/app", "sha256:" + new string('3', 64));

        Assert.Equal(502, answer.Status);
        Assert.Equal("image_too_large", answer.Reason);
        Assert.Equal(0, h.Cache.BlobCount);
    }
}
