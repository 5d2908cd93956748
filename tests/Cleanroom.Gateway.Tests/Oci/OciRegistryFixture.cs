using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.Oci;

/// <summary>
/// One real docker-registry per test class with images pushed: a two-layer OCI image (<c>test/app:v1</c>), an OCI
/// index over it and a small arm64 image (<c>test/multi:latest</c>), a Docker-typed image (<c>test/docker:v1</c>), an
/// image with many layers whose manifest is over 8 KiB (<c>test/big:v1</c>) and Docker Hub's <c>library/alpine:3</c>.
/// </summary>
public sealed class OciRegistryFixture : IAsyncLifetime
{
    public TemporaryDirectory Scratch { get; } = new("cleanroom-gateway-oci");

    public RegistryServer Registry { get; private set; } = null!;

    public BuiltImage App { get; private set; } = null!;

    public BuiltIndex Multi { get; private set; } = null!;

    public BuiltImage DockerTyped { get; private set; } = null!;

    public BuiltImage Big { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Registry = await RegistryServer.StartAsync();
        using var pusher = RegistryPusher.For(Registry);
        var blobs = Scratch.Combine("blobs");
        App = new OciImageBuilder(blobs)
            .WithCmd("/bin/sh")
            .AddLayer(l => l.Directory("etc").File("etc/os-release", "ID=test\n").BigFile("usr/lib/blob.bin", 256 * 1024, seed: 1))
            .AddLayer(l => l.File("hello.txt", "hello\n"), LayerCompression.Zstd)
            .Build();
        await pusher.PushImageAsync("test/app", "v1", App);

        var arm = new OciImageBuilder(blobs).ForPlatform("linux/arm64/v8").AddLayer(l => l.File("arch", "arm64\n")).Build();
        Multi = BuiltIndex.Create(blobs, App, arm);
        await pusher.PushIndexAsync("test/multi", "latest", Multi);

        DockerTyped = new OciImageBuilder(blobs).WithDockerMediaTypes().AddLayer(l => l.File("docker.txt", "docker\n")).Build();
        await pusher.PushImageAsync("test/docker", "v1", DockerTyped);

        var big = new OciImageBuilder(blobs);
        for (var i = 0; i < 40; i++)
        {
            var n = i;
            big = big.AddLayer(l => l.File($"f{n}", $"layer {n}\n"));
        }

        Big = big.Build();
        await pusher.PushImageAsync("test/big", "v1", Big);
        await pusher.PushImageAsync("library/alpine", "3", App);
    }

    public async Task DisposeAsync()
    {
        if (Registry is not null)
        {
            await Registry.DisposeAsync();
        }

        Scratch.Dispose();
    }
}
