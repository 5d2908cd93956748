using Cleanroom.Images.Layers;
using Cleanroom.Images.Registry;
using Cleanroom.TestSupport;

namespace Cleanroom.Images.Tests.Manager;

/// <summary>An image manager on a private store directory, and the checks that a failure left nothing behind.</summary>
internal sealed class ImageManagerScope : IDisposable
{
    private readonly TemporaryDirectory _root = new("cleanroom-image-store");

    public ImageManagerScope(LayerLimits? limits = null, RegistryClient? registry = null, long? maxStoreBytes = null)
    {
        Options = new ImageManagerOptions { Root = _root.Path, Limits = limits ?? LayerLimits.Default };
        if (maxStoreBytes is { } max)
        {
            Options = Options with { MaxStoreBytes = max };
        }

        Manager = new ImageManager(Options, registry: registry ?? Registry.RegistryFixture.NewClient());
    }

    public ImageManagerOptions Options { get; }

    public ImageManager Manager { get; }

    /// <summary>No rootfs (final or temporary), no staging tree, no downloaded or partial blob, no image row.</summary>
    public void AssertNothingLeft()
    {
        Assert.Empty(Directory.EnumerateFileSystemEntries(Options.RootfsDirectory));
        Assert.True(!Directory.Exists(Options.StagingDirectory) || !Directory.EnumerateFileSystemEntries(Options.StagingDirectory).Any());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Options.DownloadsDirectory));
        Assert.Empty(Manager.List());
    }

    public void Dispose()
    {
        Manager.Dispose();
        _root.Dispose();
    }
}
