namespace Cleanroom.Workspaces.Tests;

/// <summary>An ext4 image mounted read-only through a loop device, as a guest would see it; unmounted on dispose.</summary>
internal sealed class MountedImage : IDisposable
{
    private MountedImage(string path) => Path = path;

    public string Path { get; }

    public static async Task<MountedImage> MountAsync(string image, string mountPoint)
    {
        Directory.CreateDirectory(mountPoint);
        await Shell.RunAsync("mount", "-o", "ro,loop", image, mountPoint);
        return new MountedImage(mountPoint);
    }

    public string Combine(string relative) => System.IO.Path.Combine(Path, relative);

    public void Dispose() => Shell.RunAsync("umount", Path).GetAwaiter().GetResult();
}
