namespace Cleanroom.IntegrationTests;

/// <summary>Finds the repository root (and the boot assets scripts/setup.sh builds there) from the test binary.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Assets => Path.Combine(Root, ".build", "assets");

    /// <summary>The Debian base image scripts/test.sh builds with scripts/build-debian-image.sh.</summary>
    public static string DebianImage => Path.Combine(Root, ".build", "images", "debian-bookworm.oci.tar");

    /// <summary>The Debian image with go, pip, gem, bundler, node and npm that scripts/test.sh builds with scripts/build-toolchain-image.sh.</summary>
    public static string ToolchainImage => Path.Combine(Root, ".build", "images", "debian-toolchain.oci.tar");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cleanroom.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find the repository root (Cleanroom.slnx) above " + AppContext.BaseDirectory);
    }
}
