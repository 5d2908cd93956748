using System.Text.Json;

namespace Cleanroom.Vm.Tests.Support;

/// <summary>
/// Locates real boot assets for the tests that boot the real kernel: $CLEANROOM_TEST_ASSETS if set, else the
/// repository's .build/assets (written by scripts/setup.sh), found by walking up from the test binaries.
/// </summary>
internal static class TestAssets
{
    public const string EnvironmentVariable = "CLEANROOM_TEST_ASSETS";

    private static readonly Lazy<string?> Dir = new(Find);

    public static string? Directory => Dir.Value;

    public static string SkipReason =>
        $"Boot assets not found: run scripts/setup.sh (creates .build/assets) or set ${EnvironmentVariable} to an assets directory.";

    private static string? Find()
    {
        var fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return File.Exists(Path.Combine(fromEnv, "assets.json")) ? Path.GetFullPath(fromEnv) : null;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ".build", "assets");
            if (File.Exists(Path.Combine(candidate, "assets.json")))
            {
                return candidate;
            }

            if (System.IO.Directory.Exists(Path.Combine(dir.FullName, ".git")))
            {
                break; // Repository root reached.
            }
        }

        return null;
    }
}
