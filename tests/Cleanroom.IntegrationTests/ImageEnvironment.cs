using Cleanroom.Oci;
using Cleanroom.TestSupport;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// A real docker-registry on loopback and a real daemon with its own image store, for tests that pull images and
/// boot them. The daemon's image size limit is lowered so a decompression bomb is cheap to refuse.
/// </summary>
public sealed class ImageEnvironment : IAsyncLifetime
{
    public const long ImageLimitBytes = 256L << 20;

    public TemporaryDirectory Scratch { get; } = new("cleanroom-it-images");

    public RegistryServer Registry { get; private set; } = null!;

    public RegistryPusher Pusher { get; private set; } = null!;

    public TestDaemon Daemon { get; private set; } = null!;

    public string BlobDirectory => Scratch.Combine("blobs");

    public async Task InitializeAsync()
    {
        Registry = await RegistryServer.StartAsync();
        Pusher = RegistryPusher.For(Registry);
        var noCredentials = Scratch.WriteFile("docker/config.json", "{}");
        Daemon = new TestDaemon(DaemonFixture.RequireAssets(RepoPaths.Assets), o => o with { MaxImageBytes = ImageLimitBytes, RegistryConfigPath = noCredentials });
        await Daemon.StartAsync();
    }

    /// <summary>Pushes <paramref name="image"/> as <c>repository:tag</c> and returns its pinned reference.</summary>
    public async Task<string> PushAsync(string repository, string tag, BuiltImage image)
    {
        var digest = await Pusher.PushImageAsync(repository, tag, image);
        return Registry.Reference(repository) + "@" + digest;
    }

    public async Task DisposeAsync()
    {
        try
        {
            // Throws when the daemon leaked a VM: the registry must still go away below.
            if (Daemon is not null)
            {
                await Daemon.DisposeAsync();
            }
        }
        finally
        {
            Pusher?.Dispose();
            if (Registry is not null)
            {
                await Registry.DisposeAsync();
            }

            Scratch.Dispose();
        }
    }

    /// <summary>A layer with the host's static busybox as /bin/busybox and /bin/sh, so the guest has tools.</summary>
    public static void Busybox(LayerContents layer) =>
        layer.Directory("bin")
            .File("bin/busybox", File.ReadAllBytes("/bin/busybox"), LayerContents.FileMode755)
            .Symlink("bin/sh", "busybox")
            .Directory("etc")
            .File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nbuilder:x:1000:1000::/home/builder:/bin/sh\n");
}

[CollectionDefinition(Name)]
public sealed class ImageTestGroup : ICollectionFixture<ImageEnvironment>
{
    public const string Name = "images";
}
