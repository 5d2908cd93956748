using Cleanroom.Gateway.Routes.Oci;
using Cleanroom.Gateway.Server;
using Cleanroom.Images.Registry;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.Oci;

/// <summary>A private docker-registry behind token auth; the credentials exist on the host only.</summary>
public sealed class OciPrivateRegistryTests : IAsyncLifetime
{
    private const string Username = "ci-bot";
    private const string Password = "s3cret, with \"quotes\"";

    private readonly TemporaryDirectory _scratch = new("cleanroom-gateway-oci-private");
    private RegistryServer _registry = null!;
    private BuiltImage _image = null!;

    private static RegistryCredentialStore Credentials => RegistryCredentialStore.Empty.With(OciHarness.Host, new RegistryCredential(Username, Password));

    public async Task InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync(RegistryAuth.Token(Username, Password));
        _image = new OciImageBuilder(_scratch.Combine("blobs"))
            .AddLayer(l => l.File("secret.txt", "only for ci-bot\n").BigFile("payload.bin", 64 * 1024, seed: 7))
            .Build();
        using var pusher = RegistryPusher.For(_registry);
        await pusher.PushImageAsync("private/app", "v1", _image);
    }

    /// <summary>A sandbox allowed the registry and the token service its challenges name.</summary>
    private GatewayClient WithTokenService => OciTestPolicies.Client($"[{OciHarness.Host}:443, \"127.0.0.1:{_registry.TokenServer!.Realm.Port}\"]", "sb-token");

    public async Task DisposeAsync()
    {
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        _scratch.Dispose();
    }

    [Fact]
    public async Task With_host_credentials_the_private_image_is_served()
    {
        await using var h = new OciHarness(_registry.BaseUri, Credentials, forwardAuthorization: true);
        var layer = _image.Layers[0].Blob;

        var manifest = await h.Manifest("private/app", "v1", client: WithTokenService);
        var blob = await h.Blob("private/app", layer.Digest.ToString(), client: WithTokenService);

        Assert.Equal(_image.ManifestBytes, await OciHarness.ReadBody(manifest));
        Assert.Equal(layer.ReadAllBytes(), await OciHarness.ReadBody(blob));
        Assert.True(_registry.TokenServer!.TokensIssued >= 1);
        Assert.Contains(h.Upstream.Requests, r => r.Header("Authorization")?.StartsWith("Bearer ", StringComparison.Ordinal) == true);
        Assert.Equal(OciCacheResult.Hit, (await h.Manifest("private/app", "v1", client: WithTokenService)).Cache);
    }

    [Fact]
    public async Task Without_credentials_the_registry_refusal_becomes_a_401()
    {
        await using var h = new OciHarness(_registry.BaseUri, forwardAuthorization: true);

        await using var manifest = await h.Manifest("private/app", "v1", client: WithTokenService);
        await using var blob = await h.Blob("private/app", _image.Layers[0].Blob.Digest.ToString(), client: WithTokenService);

        foreach (var answer in new[] { manifest, blob })
        {
            Assert.Equal(401, answer.Status);
            Assert.Equal(OciReasons.UpstreamError, answer.Reason);
            Assert.Equal(OciErrorCodes.Unauthorized, answer.ErrorCode);
            Assert.DoesNotContain(Password, answer.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, h.Cache.BlobCount);
    }

    [Fact]
    public async Task Objects_fetched_with_credentials_are_not_served_to_a_pull_through_without_them()
    {
        await using var withCredentials = new OciHarness(_registry.BaseUri, Credentials, forwardAuthorization: true);
        var layer = _image.Layers[0].Blob;
        await OciHarness.ReadBody(await withCredentials.Manifest("private/app", "v1", client: WithTokenService));
        await OciHarness.ReadBody(await withCredentials.Blob("private/app", layer.Digest.ToString(), client: WithTokenService));
        await using var anonymous = new OciHarness(_registry.BaseUri, forwardAuthorization: true, sharedCache: withCredentials.Cache);

        await using var manifest = await anonymous.Manifest("private/app", "v1", client: WithTokenService);
        await using var byDigest = await anonymous.Manifest("private/app", _image.ManifestDigest.ToString(), client: WithTokenService);
        await using var blob = await anonymous.Blob("private/app", layer.Digest.ToString(), client: WithTokenService);

        Assert.All(new[] { manifest, byDigest, blob }, a => Assert.Equal(401, a.Status));
        Assert.NotEmpty(anonymous.Upstream.Requests);
        Assert.Equal(OciCacheResult.Hit, (await withCredentials.Manifest("private/app", "v1", client: WithTokenService)).Cache);
    }

    [Fact]
    public async Task A_token_service_outside_the_sandboxs_policy_is_refused_before_it_is_asked()
    {
        var issuedBefore = _registry.TokenServer!.TokensIssued; // the push in InitializeAsync took one
        await using var h = new OciHarness(_registry.BaseUri, Credentials, forwardAuthorization: true);

        await using var manifest = await h.Manifest("private/app", "v1");

        Assert.Equal(403, manifest.Status);
        Assert.Equal(OciReasons.HostNotAllowed, manifest.Reason);
        Assert.Contains($"token service 127.0.0.1:{_registry.TokenServer.Realm.Port}", manifest.Message, StringComparison.Ordinal);
        Assert.Equal(issuedBefore, _registry.TokenServer.TokensIssued);
        Assert.Equal(0, h.Cache.BlobCount);
    }
}
