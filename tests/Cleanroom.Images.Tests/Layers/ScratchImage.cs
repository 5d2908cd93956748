using Cleanroom.Images.Layers;
using Cleanroom.Oci;

namespace Cleanroom.Images.Tests.Layers;

/// <summary>
/// A temporary directory under /tmp holding the image root and, beside it, an "outside" directory standing for the
/// host: confinement tests check that nothing there is created, changed or removed.
/// </summary>
internal sealed class ScratchImage : IDisposable
{
    private readonly string _directory = System.IO.Directory.CreateTempSubdirectory("cr-layers-").FullName;

    public ScratchImage(LayerLimits? limits = null)
    {
        Root = Path.Combine(_directory, "root");
        Outside = Path.Combine(_directory, "outside");
        System.IO.Directory.CreateDirectory(Root);
        System.IO.Directory.CreateDirectory(Outside);
        Applier = new LayerApplier(Root, limits ?? LayerLimits.Default);
    }

    public string Root { get; }

    public string Outside { get; }

    public LayerApplier Applier { get; }

    /// <summary>A symlink target that, followed on the host from the image root, reaches <paramref name="outsidePath"/>.</summary>
    public static string EscapingTarget(string outsidePath) => "../../../../../../../.." + outsidePath;

    public string InRoot(string relative) => Path.Combine(Root, relative);

    public void Apply(LayerTar layer, string name = "layer") => Apply(layer.ToTar(), LayerCompression.None, name);

    public void Apply(byte[] blob, LayerCompression compression, string name = "layer", CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(blob);
        Applier.Apply(stream, compression, name, cancellationToken);
    }

    public LayerRejectedException Rejects(LayerTar layer) => Assert.Throws<LayerRejectedException>(() => Apply(layer, "sha256:bad"));

    public void Dispose() => System.IO.Directory.Delete(_directory, recursive: true);
}
