using System.Diagnostics;
using System.Text.Json;
using Cleanroom.Images.Registry;
using Cleanroom.Oci;

namespace Cleanroom.Gateway.Tests.Oci;

/// <summary>Real registry clients through the gateway: skopeo on the Docker Hub mirror route, cleanroom's own client on <c>/registry/</c>.</summary>
public sealed class RegistryRouteClientTests(OciRegistryFixture fixture) : IClassFixture<OciRegistryFixture>
{
    private const string Skopeo = "/usr/bin/skopeo";

    [Fact]
    public async Task Skopeo_copies_an_image_through_the_mirror_route_and_the_second_copy_is_served_from_the_cache()
    {
        Assert.True(File.Exists(Skopeo), $"{Skopeo} is missing: scripts/install-host-deps.sh installs it (package skopeo)");
        await using var g = await OciGateway.StartAsync(fixture.Registry.BaseUri);
        using var scratch = new Scratch();

        var first = await CopyAsync(g, scratch.Path, "one");
        Assert.True(first.Code == 0, first.Output + g.Gateway.Log);
        AssertLayout(Path.Combine(scratch.Path, "one"));
        var upstream = g.Upstream.Requests.Count;
        Assert.Equal(1, g.UpstreamRequests("/v2/test/app/manifests/v1"));

        var second = await CopyAsync(g, scratch.Path, "two");
        Assert.True(second.Code == 0, second.Output + g.Gateway.Log);
        AssertLayout(Path.Combine(scratch.Path, "two"));
        Assert.Equal(upstream, g.Upstream.Requests.Count);
        Assert.True(g.Counters.Hits >= 4, $"{g.Counters}");
    }

    [Fact]
    public async Task Cleanroom_s_registry_client_pulls_an_index_its_image_and_blobs_through_the_registry_prefix()
    {
        await using var g = await OciGateway.StartAsync(fixture.Registry.BaseUri);
        using var scratch = new Scratch();
        using var client = new RegistryClient(new RegistryClientOptions
        {
            Credentials = RegistryCredentialStore.Empty,
            BaseUris = new Dictionary<string, Uri>(StringComparer.Ordinal) { [OciGateway.Host] = new(g.Gateway.BaseUri, $"registry/{OciGateway.Host}/") },
            MaxAttempts = 1,
        });
        var image = ImageReference.Parse($"{OciGateway.Host}/test/multi:latest");

        var index = await client.GetManifestAsync(image, "latest", CancellationToken.None);
        Assert.Equal(fixture.Multi.Digest, index.Digest);
        Assert.NotNull(index.Index);
        var manifest = await client.GetManifestAsync(image, fixture.App.ManifestDigest.ToString(), CancellationToken.None);
        Assert.Equal(fixture.App.ManifestBytes, manifest.Bytes);
        var parsed = Assert.IsType<ImageManifest>(manifest.Manifest);
        var config = await client.GetBlobBytesAsync(image, Assert.IsType<Descriptor>(parsed.Config), 1 << 20, CancellationToken.None);
        Assert.Equal(fixture.App.ConfigBlob.ReadAllBytes(), config);
        var layer = Assert.IsType<Descriptor>(parsed.Layers![0]);
        var file = Path.Combine(scratch.Path, "layer");
        await client.DownloadBlobAsync(image, layer, file, null, CancellationToken.None);
        Assert.Equal(fixture.App.Layers[0].Blob.ReadAllBytes(), await File.ReadAllBytesAsync(file));

        Assert.Equal(fixture.Multi.Digest, await client.ResolveDigestAsync(image, CancellationToken.None));
        Assert.Equal(1, g.UpstreamRequests("/v2/test/multi/manifests/latest"));
        Assert.Equal(0, g.Counters.Refused);
    }

    /// <summary>Runs <c>skopeo copy</c> from the gateway's mirror route into an OCI layout under <paramref name="root"/>.</summary>
    private static async Task<(int Code, string Output)> CopyAsync(OciGateway g, string root, string name)
    {
        var home = Path.Combine(root, "home-" + name);
        Directory.CreateDirectory(home);
        var start = new ProcessStartInfo(Skopeo)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--insecure-policy", "--tmpdir", home, "copy", "--src-tls-verify=false", "--src-no-creds", "--retry-times", "0",
            $"docker://127.0.0.1:{g.Gateway.Port}/test/app:v1", $"oci:{Path.Combine(root, name)}:v1",
        })
        {
            start.ArgumentList.Add(arg);
        }

        // Nothing of the host's user: no auth file, no registries.conf mirrors, no proxies, caches under scratch.
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/bin:/bin";
        start.Environment["HOME"] = home;
        start.Environment["TMPDIR"] = home;
        start.Environment["XDG_RUNTIME_DIR"] = home;
        start.Environment["XDG_CONFIG_HOME"] = home;
        start.Environment["REGISTRY_AUTH_FILE"] = Path.Combine(home, "auth.json");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The layout holds the image's manifest and every blob it names, each hashing to its name.</summary>
    private void AssertLayout(string layout)
    {
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
        var manifestDigest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        Assert.Equal(fixture.App.ManifestDigest.ToString(), manifestDigest);
        foreach (var digest in new[] { fixture.App.ConfigBlob.Digest }.Concat(fixture.App.Layers.Select(l => l.Blob.Digest)))
        {
            var path = Path.Combine(layout, "blobs", "sha256", digest.ToString()["sha256:".Length..]);
            Assert.Equal(digest.ToString(), "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))));
        }
    }
}
