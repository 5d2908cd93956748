using Cleanroom.Images.Ext4;

namespace Cleanroom.Images.Tests.Ext4;

/// <summary>A temp directory holding one image path and a mount point; removed (after unmounting) on dispose.</summary>
internal sealed class Ext4ScratchImage : IDisposable
{
    public Ext4ScratchImage()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("cleanroom-ext4-").FullName;
    }

    public string Directory { get; }

    public string Image => Path.Combine(Directory, "image.ext4");

    public string MountPoint => Path.Combine(Directory, "mnt");

    public Ext4ImageWriter Create(Ext4ImageOptions options) => Ext4ImageWriter.Create(Image, options);

    public MountedExt4 Mount() => MountedExt4.Mount(Image, MountPoint);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory (a mount that did not go away) must not hide the test's result.
        }
    }
}
