using System.Diagnostics;
using Cleanroom.Images.Rootfs;

namespace Cleanroom.Images.Tests.Rootfs;

/// <summary>
/// A staging tree is removed whole even when a layer named files with bytes that are not UTF-8 (which a layer can,
/// through the CLEANROOM.rawpath record), and even below a directory the image made read-only.
/// </summary>
public sealed class StagingRemovalTests
{
    [Fact]
    public void A_tree_with_names_that_are_not_utf8_and_a_read_only_directory_is_removed()
    {
        var root = Directory.CreateTempSubdirectory("cr-staging-").FullName;
        try
        {
            // .NET cannot make these names; the shell can. \377 is never UTF-8.
            Shell($"mkdir -p \"$1/usr/$(printf 'd\\377')\" && echo x > \"$1/usr/$(printf 'd\\377')/$(printf 'f\\376')\" && chmod 555 \"$1/usr\"", root);

            RootfsMaterializer.DeleteTree(root);

            Assert.False(Directory.Exists(root));
        }
        finally
        {
            Shell("chmod -R u+w \"$1\" 2>/dev/null; rm -rf -- \"$1\"", root);
        }
    }

    [Fact]
    public void A_missing_tree_is_not_an_error()
    {
        RootfsMaterializer.DeleteTree(Path.Combine(Path.GetTempPath(), "cr-staging-never-" + Guid.NewGuid().ToString("N")));
    }

    private static void Shell(string script, string argument)
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", script, "sh", argument]))!;
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }
}
