using System.Net;
using System.Text;
using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.Oci;

/// <summary>A private registry (token auth) behind the registry route: the credentials are in a Docker config on the host only.</summary>
public sealed class RegistryRoutePrivateTests : IAsyncLifetime
{
    private const string Username = "ci-bot";
    private const string Password = "gateway-only s3cret";

    private readonly TemporaryDirectory _scratch = new("cleanroom-gateway-registry-private");
    private RegistryServer _registry = null!;
    private BuiltImage _image = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync(RegistryAuth.Token(Username, Password));
        _image = new OciImageBuilder(_scratch.Combine("blobs"))
            .AddLayer(l => l.File("secret.txt", "only for ci-bot\n").BigFile("payload.bin", 64 * 1024, seed: 11))
            .Build();
        using var pusher = RegistryPusher.For(_registry);
        await pusher.PushImageAsync("private/app", "v1", _image);
    }

    /// <summary>The registry and the token service its challenges name (as Docker Hub needs auth.docker.io).</summary>
    private string AllowWithTokenService => $"[\"{OciGateway.Host}:443\", \"127.0.0.1:{_registry.TokenServer!.Realm.Port}\"]";

    public async Task DisposeAsync()
    {
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        _scratch.Dispose();
    }

    [Fact]
    public async Task With_a_docker_config_on_the_host_the_private_image_is_served_to_a_guest_that_sends_no_credentials()
    {
        var config = _scratch.Combine("docker-config.json");
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}"));
        await File.WriteAllTextAsync(config, $$"""{"auths": {"{{OciGateway.Host}}": {"auth": "{{auth}}"} } }""");
        await using var g = await OciGateway.StartAsync(_registry.BaseUri, AllowWithTokenService, forwardAuthorization: true, configure: o => o with { RegistryAuthFile = config });
        var layer = _image.Layers[0].Blob;

        using var manifest = await g.SendAsync(HttpMethod.Get, "/registry/registry.test/v2/private/app/manifests/v1");
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        Assert.Equal(_image.ManifestBytes, await manifest.Content.ReadAsByteArrayAsync());
        using var blob = await g.SendAsync(HttpMethod.Get, "/registry/registry.test/v2/private/app/blobs/" + layer.Digest);
        Assert.Equal(HttpStatusCode.OK, blob.StatusCode);
        Assert.Equal(layer.ReadAllBytes(), await blob.Content.ReadAsByteArrayAsync());

        Assert.True(_registry.TokenServer!.TokensIssued >= 1);
        Assert.Contains(g.Upstream.Requests, r => r.Header("Authorization")?.StartsWith("Bearer ", StringComparison.Ordinal) == true);
        Assert.False(manifest.Headers.Contains("WWW-Authenticate"));
        Assert.DoesNotContain(Password, g.Gateway.Log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_credentials_the_guest_gets_401_unauthorized_and_nothing_is_cached()
    {
        await using var g = await OciGateway.StartAsync(_registry.BaseUri, AllowWithTokenService, forwardAuthorization: true);

        using var manifest = await g.SendAsync(HttpMethod.Get, "/registry/registry.test/v2/private/app/manifests/v1");

        await OciGateway.AssertErrorAsync(manifest, HttpStatusCode.Unauthorized, "upstream_error", "UNAUTHORIZED");
        Assert.False(manifest.Headers.Contains("WWW-Authenticate"));
        Assert.Equal(0, g.Gateway.Cache.BlobCount);
        Assert.Equal(1, g.Counters.UpstreamErrors);
    }

    [Fact]
    public async Task A_token_service_the_policy_does_not_allow_is_never_asked()
    {
        var config = _scratch.Combine("docker-config-realm.json");
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}"));
        await File.WriteAllTextAsync(config, $$"""{"auths": {"{{OciGateway.Host}}": {"auth": "{{auth}}"} } }""");
        await using var g = await OciGateway.StartAsync(_registry.BaseUri, forwardAuthorization: true, configure: o => o with { RegistryAuthFile = config });

        var issuedBefore = _registry.TokenServer!.TokensIssued; // the push in InitializeAsync took one
        using var manifest = await g.SendAsync(HttpMethod.Get, "/registry/registry.test/v2/private/app/manifests/v1");

        await OciGateway.AssertErrorAsync(manifest, HttpStatusCode.Forbidden, "host_not_allowed", "DENIED");
        Assert.Equal(issuedBefore, _registry.TokenServer.TokensIssued);
        Assert.Equal(0, g.Gateway.Cache.BlobCount);
    }
}
