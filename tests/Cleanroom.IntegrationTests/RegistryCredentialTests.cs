using System.Text;
using Cleanroom.Api.V1;
using Cleanroom.TestSupport;
using Grpc.Core;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// The daemon pulls from a registry behind token auth with the credentials in its Docker config (they never leave
/// the host), and says clearly when it has none. No VM is booted.
/// </summary>
public sealed class RegistryCredentialTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_daemon_uses_its_docker_config_for_a_token_protected_registry(bool withCredentials)
    {
        using var scratch = new TemporaryDirectory("cleanroom-it-creds");
        await using var registry = await RegistryServer.StartAsync(RegistryAuth.Token("ci-bot", "s3cret"));
        using var pusher = RegistryPusher.For(registry);
        var image = new OciImageBuilder(scratch.Combine("blobs")).AddLayer(l => l.File("hello", "from a private registry")).Build();
        await pusher.PushImageAsync("private/app", "v1", image);
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("ci-bot:s3cret"));
        var credentials = "{\"auths\":{\"" + registry.Host + "\":{\"auth\":\"" + auth + "\"}}}";
        var config = scratch.WriteFile("docker/config.json", withCredentials ? credentials : "{}");
        var issuedBefore = registry.TokenServer!.TokensIssued;
        await using var daemon = new TestDaemon(DaemonFixture.RequireAssets(RepoPaths.Assets), o => o with { RegistryConfigPath = config });
        await daemon.StartAsync();

        var pull = async () =>
        {
            using var call = daemon.Images.PullImage(new PullImageRequest { Ref = registry.Reference("private/app:v1") });
            PullImageEvent? last = null;
            await foreach (var e in call.ResponseStream.ReadAllAsync())
            {
                last = e;
            }

            return last!;
        };

        if (withCredentials)
        {
            var last = await pull();
            Assert.Equal(image.ManifestDigest.ToString(), last.Image.Digest);
            Assert.True(registry.TokenServer.TokensIssued > issuedBefore, "the pull went through the token service");
        }
        else
        {
            var error = await Assert.ThrowsAsync<RpcException>(pull);
            Assert.True(error.StatusCode == StatusCode.PermissionDenied, $"expected PermissionDenied, got {error.StatusCode}: {error.Status.Detail}");
            Assert.StartsWith("image_registry_error:", error.Status.Detail, StringComparison.Ordinal);
            Assert.Contains("docker login", error.Status.Detail, StringComparison.Ordinal);
            Assert.Empty((await daemon.Images.ListImagesAsync(new ListImagesRequest())).Images);
        }
    }
}
