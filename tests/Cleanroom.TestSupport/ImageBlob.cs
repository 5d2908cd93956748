using Cleanroom.Oci;

namespace Cleanroom.TestSupport;

/// <summary>A blob an <see cref="OciImageBuilder"/> wrote: its descriptor and the file holding its bytes.</summary>
public sealed record ImageBlob(Descriptor Descriptor, string Path)
{
    public Digest Digest => Descriptor.ParsedDigest;

    public long Size => Descriptor.Size;

    public byte[] ReadAllBytes() => File.ReadAllBytes(Path);

    public FileStream OpenRead() => new(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
}
