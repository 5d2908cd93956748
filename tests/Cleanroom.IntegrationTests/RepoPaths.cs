namespace Cleanroom.IntegrationTests;

/// <summary>Finds the repository root (and the boot assets scripts/setup.sh builds there) from the test binary.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Assets => Path.Combine(Root, ".build", "assets");

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
