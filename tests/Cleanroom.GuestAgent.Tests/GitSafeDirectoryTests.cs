using Cleanroom.GuestAgent.Init;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>The workspace listed once as a git safe.directory, whatever the image's system git config held.</summary>
public sealed class GitSafeDirectoryTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cr-gitsafe-").FullName;

    private string Config => Path.Combine(_directory, "gitconfig");

    [Fact]
    public void A_missing_config_gets_the_entry_and_a_second_boot_adds_nothing()
    {
        GitSafeDirectory.Allow("/workspace", Config);
        GitSafeDirectory.Allow("/workspace", Config);

        Assert.Equal("[safe]\n\tdirectory = /workspace\n", File.ReadAllText(Config));
    }

    [Fact]
    public void The_images_own_settings_are_kept_even_without_a_final_newline()
    {
        File.WriteAllText(Config, "[core]\n\tpager = cat");

        GitSafeDirectory.Allow("/src", Config);

        Assert.Equal("[core]\n\tpager = cat\n[safe]\n\tdirectory = /src\n", File.ReadAllText(Config));
    }

    [Fact]
    public void Git_reads_the_entry_as_a_safe_directory()
    {
        GitSafeDirectory.Allow("/workspace", Config);

        var (exitCode, output) = SpawnedCommand.Run("/usr/bin/git", ["git", "config", "--file", Config, "--get-all", "safe.directory"]);

        Assert.Equal(0, exitCode);
        Assert.Equal("/workspace\n", output);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
