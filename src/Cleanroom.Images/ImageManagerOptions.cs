using Cleanroom.Images.Layers;
using Cleanroom.Images.Registry;
using Cleanroom.Oci;

namespace Cleanroom.Images;

/// <summary>Where images are kept and the limits a pull or import runs under.</summary>
public sealed record ImageManagerOptions
{
    /// <summary>Holds metadata.db, rootfs/, downloads/ and staging/.</summary>
    public required string Root { get; init; }

    /// <summary>The platform picked from multi-platform images.</summary>
    public Platform Platform { get; init; } = Platform.Host;

    public LayerLimits Limits { get; init; } = LayerLimits.Default;

    /// <summary>What a pull may download, checked against the manifest before any blob is fetched.</summary>
    public DownloadLimits Downloads { get; init; } = DownloadLimits.Default;

    /// <summary>
    /// The most the stored images may take together, counted as the sum of their file-system sizes (an upper bound of
    /// their disk use). A new image that would pass it evicts unused images, least recently used first; when even that
    /// is not enough it is refused.
    /// </summary>
    public long MaxStoreBytes { get; init; } = 50L << 30;

    /// <summary>Layers fetched at once; more rarely helps and makes one slow registry slower for everyone.</summary>
    public int MaxConcurrentDownloads { get; init; } = 4;

    public RegistryClientOptions Registry { get; init; } = new();

    /// <summary>Largest archive <c>image import</c> accepts (the tarball itself, before unpacking).</summary>
    public long MaxImportBytes { get; init; } = 32L << 30;

    public string DatabasePath => Path.Combine(Root, "metadata.db");

    public string RootfsDirectory => Path.Combine(Root, "rootfs");

    public string DownloadsDirectory => Path.Combine(Root, "downloads");

    public string StagingDirectory => Path.Combine(Root, "staging");

    public string RootfsPathFor(Digest digest) => Path.Combine(RootfsDirectory, digest.Hex + ".ext4");
}
