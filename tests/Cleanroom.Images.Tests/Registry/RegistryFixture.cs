using Cleanroom.Images.Registry;
using Cleanroom.Oci;
using Cleanroom.TestSupport;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Images.Tests.Registry;

/// <summary>
/// One real docker-registry per test class, with a few images pushed: a two-layer OCI image, a multi-platform index
/// (amd64 + a different, tiny arm64/v8 image) and a Docker v2 media-type image. Tests that damage stored blobs push
/// their own unique images (blobs are shared by digest across repositories).
/// </summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    private int _uniqueSeed = 1000;

    public TemporaryDirectory Scratch { get; } = new("cleanroom-registry-tests");

    public RegistryServer Registry { get; private set; } = null!;

    public RegistryPusher Pusher { get; private set; } = null!;

    public BuiltImage App { get; private set; } = null!;

    public BuiltIndex Multi { get; private set; } = null!;

    public BuiltImage DockerTyped { get; private set; } = null!;

    public ImageReference AppRef => ImageReference.Parse(Registry.Reference("test/app:v1"));

    public ImageReference MultiRef => ImageReference.Parse(Registry.Reference("test/multi:latest"));

    public ImageReference DockerRef => ImageReference.Parse(Registry.Reference("test/docker:v1"));

    public async Task InitializeAsync()
    {
        Registry = await RegistryServer.StartAsync();
        Pusher = RegistryPusher.For(Registry);
        var blobs = Scratch.Combine("blobs");
        App = new OciImageBuilder(blobs)
            .WithEnv("PATH=/usr/bin:/bin", "GREETING=hello")
            .WithCmd("/bin/sh")
            .WithWorkingDir("/work")
            .AddLayer(l => l.Directory("etc").File("etc/os-release", "ID=test\n").BigFile("usr/lib/blob.bin", 256 * 1024, seed: 1))
            .AddLayer(l => l.Directory("work").File("work/hello.txt", "hello\n"), LayerCompression.Zstd)
            .Build();
        await Pusher.PushImageAsync("test/app", "v1", App);

        var arm = new OciImageBuilder(blobs)
            .ForPlatform("linux/arm64/v8")
            .WithCmd("/bin/arm-shell")
            .AddLayer(l => l.File("arch", "arm64\n"))
            .Build();
        Multi = BuiltIndex.Create(blobs, App, arm);
        await Pusher.PushIndexAsync("test/multi", "latest", Multi);

        DockerTyped = new OciImageBuilder(blobs)
            .WithDockerMediaTypes()
            .WithCmd("/bin/true")
            .AddLayer(l => l.File("docker.txt", "docker media types\n"))
            .Build();
        await Pusher.PushImageAsync("test/docker", "v1", DockerTyped);
    }

    public async Task DisposeAsync()
    {
        Pusher?.Dispose();
        if (Registry is not null)
        {
            await Registry.DisposeAsync();
        }

        Scratch.Dispose();
    }

    /// <summary>A client for the test registry: no ambient Docker config, short backoff, short timeouts.</summary>
    public static RegistryClient NewClient(RegistryCredentialStore? credentials = null, ILogger? logger = null, int maxAttempts = 3) =>
        new(new RegistryClientOptions
        {
            Credentials = credentials ?? RegistryCredentialStore.Empty,
            MaxAttempts = maxAttempts,
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            RequestTimeout = TimeSpan.FromSeconds(10),
        }, logger);

    /// <summary>
    /// Pushes a new single-layer image whose layer no other test shares, as <c>repository:v1</c>. Use it when the
    /// test corrupts, truncates or lies about the layer.
    /// </summary>
    public async Task<BuiltImage> PushUniqueImageAsync(string repository, long fileSize = 64 * 1024)
    {
        var seed = Interlocked.Increment(ref _uniqueSeed);
        var image = new OciImageBuilder(Scratch.Combine("blobs"))
            .AddLayer(l => l.BigFile("data.bin", fileSize, seed))
            .Build();
        await Pusher.PushImageAsync(repository, "v1", image);
        return image;
    }

    /// <summary>A fresh path for a download in this fixture's scratch directory.</summary>
    public string DownloadPath() => Scratch.Combine(Path.Combine("downloads", Guid.NewGuid().ToString("N")));
}
