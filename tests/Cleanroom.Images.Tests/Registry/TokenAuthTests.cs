using System.Text;
using Cleanroom.Images.Registry;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Registry;

/// <summary>The Docker token flow against docker-registry's <c>auth.token</c> and a real token service.</summary>
public sealed class TokenAuthTests(TokenRegistryFixture fixture) : IClassFixture<TokenRegistryFixture>
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task Good_credentials_get_a_token_and_the_image()
    {
        var issuedBefore = fixture.Tokens.TokensIssued;
        using var client = RegistryFixture.NewClient(fixture.GoodCredentials);

        var manifest = await client.GetManifestAsync(fixture.ImageRef, "v1", Ct);
        var path = fixture.Scratch.Combine("downloads/" + Guid.NewGuid().ToString("N"));
        await client.DownloadBlobAsync(fixture.ImageRef, manifest.Manifest!.Layers![0], path, null, Ct);

        Assert.Equal(fixture.Image.ManifestDigest, manifest.Digest);
        Assert.Equal(fixture.Image.Layers[0].Blob.ReadAllBytes(), await File.ReadAllBytesAsync(path, Ct));
        Assert.True(fixture.Tokens.TokensIssued > issuedBefore, "the token service issued no token: the flow did not happen");
        var tokenRequest = fixture.Tokens.Requests.Last(r => r.Header("Authorization") is not null);
        Assert.Contains("scope=repository%3Aprivate%2Fapp%3Apull", tokenRequest.PathAndQuery, StringComparison.Ordinal);
        Assert.Contains($"service={fixture.Tokens.Service}", tokenRequest.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_is_reused_until_it_expires()
    {
        using var client = RegistryFixture.NewClient(fixture.GoodCredentials);
        await client.GetManifestAsync(fixture.ImageRef, "v1", Ct);
        var requestsAfterFirst = fixture.Tokens.RequestCount;

        await client.ResolveDigestAsync(fixture.ImageRef, Ct);
        await client.GetBlobBytesAsync(fixture.ImageRef, fixture.Image.ConfigBlob.Descriptor, 1 << 20, Ct);

        Assert.Equal(requestsAfterFirst, fixture.Tokens.RequestCount);
    }

    [Fact]
    public async Task A_wrong_password_is_unauthorized_with_a_message_that_says_so()
    {
        var refusalsBefore = fixture.Tokens.Refusals;
        var credentials = RegistryCredentialStore.Empty.With(fixture.Registry.Host, new RegistryCredential(TokenRegistryFixture.Username, "wrong"));
        using var client = RegistryFixture.NewClient(credentials);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(fixture.ImageRef, "v1", Ct));

        Assert.Equal(RegistryErrorKind.Unauthorized, error.Kind);
        Assert.Contains(fixture.Registry.Host, error.Message, StringComparison.Ordinal);
        Assert.Contains($"refused the credentials of '{TokenRegistryFixture.Username}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("401", error.Message, StringComparison.Ordinal);
        Assert.Contains("incorrect username or password", error.Message, StringComparison.Ordinal);
        Assert.True(fixture.Tokens.Refusals > refusalsBefore);
    }

    [Fact]
    public async Task No_credentials_is_unauthorized_and_says_how_to_log_in()
    {
        using var client = RegistryFixture.NewClient();

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveDigestAsync(fixture.ImageRef, Ct));

        Assert.Equal(RegistryErrorKind.Unauthorized, error.Kind);
        Assert.Contains($"docker login {fixture.Registry.Host}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Credentials_come_from_a_docker_config_file()
    {
        using var directory = new TemporaryDirectory();
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TokenRegistryFixture.Username}:{TokenRegistryFixture.Password}"));
        var config = directory.WriteFile("config.json", $$"""
            {
              "auths": {
                "http://{{fixture.Registry.Host}}/v2/": { "auth": "{{auth}}" },
                "https://index.docker.io/v1/": { "auth": "{{Convert.ToBase64String("hub:pw"u8)}}" }
              },
              "credsStore": "desktop"
            }
            """);
        using var client = RegistryFixture.NewClient(RegistryCredentialStore.FromDockerConfig(config));

        var digest = await client.ResolveDigestAsync(fixture.ImageRef, Ct);

        Assert.Equal(fixture.Image.ManifestDigest, digest);
    }

    [Fact]
    public async Task An_identity_token_is_exchanged_through_the_oauth2_refresh_grant()
    {
        var credentials = RegistryCredentialStore.Empty.With(fixture.Registry.Host, new RegistryCredential("<token>", null, IdentityToken: TokenRegistryFixture.Password));
        using var client = RegistryFixture.NewClient(credentials);

        var digest = await client.ResolveDigestAsync(fixture.ImageRef, Ct);

        Assert.Equal(fixture.Image.ManifestDigest, digest);
        Assert.Contains(fixture.Tokens.Requests, r => r.Method == "POST");
    }
}
