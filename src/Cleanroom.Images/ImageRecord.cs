using Cleanroom.Oci;

namespace Cleanroom.Images;

/// <summary>A materialised image: its identity, where its root file system is, and the defaults it runs with.</summary>
public sealed record ImageRecord
{
    /// <summary>The platform manifest's digest: the image's identity and the rootfs cache key.</summary>
    public required Digest Digest { get; init; }

    /// <summary>References that resolved to this image, canonical form, most recent first.</summary>
    public IReadOnlyList<string> Refs { get; init; } = [];

    /// <summary>The ext4 root file system (read-only base; sandboxes boot from a copy-on-write overlay).</summary>
    public required string RootfsPath { get; init; }

    /// <summary>Bytes of file content in the image (what the layers unpacked to).</summary>
    public long ContentBytes { get; init; }

    /// <summary>Size of the ext4 file system (the guest's disk before any policy raises it).</summary>
    public long FilesystemBytes { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset LastUsedAt { get; init; }

    /// <summary><c>registry</c> or <c>import</c>.</summary>
    public string Source { get; init; } = ImageSources.Registry;

    /// <summary>os/arch[/variant] from the image config.</summary>
    public string Platform { get; init; } = "";

    /// <summary>Env, entrypoint, cmd, workdir and user from the image config: execution defaults.</summary>
    public RunDefaults Defaults { get; init; } = new();
}

/// <summary>Where an image came from.</summary>
public static class ImageSources
{
    public const string Registry = "registry";
    public const string Import = "import";
}
