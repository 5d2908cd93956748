extern alias daemon;

using daemon::Cleanroom.Daemon.Hosting;

namespace Cleanroom.IntegrationTests;

/// <summary>The arguments <c>cleanroom serve</c> hands to <c>cleanroom-daemon</c>.</summary>
public class DaemonProgramTests
{
    [Fact]
    public void Parses_every_option()
    {
        Assert.True(DaemonProgram.TryParse(["--listen", "/run/x.sock", "--state-dir", "/var/lib/x", "--assets", "/a", "--accel", "tcg"], out var options, out _));

        Assert.Equal(("/run/x.sock", "/var/lib/x", "/a", "tcg"), (options!.SocketPath, options.StateDir, options.AssetsDir, options.Accel));
    }

    [Fact]
    public void Templates_are_on_unless_turned_off_and_take_only_on_or_off()
    {
        string[] required = ["--listen", "/run/x.sock", "--state-dir", "/var/lib/x"];
        Assert.True(DaemonProgram.TryParse(required, out var defaults, out _));
        Assert.True(defaults!.Templates);
        Assert.True(DaemonProgram.TryParse([.. required, "--templates", "off"], out var off, out _));
        Assert.False(off!.Templates);
        Assert.False(DaemonProgram.TryParse([.. required, "--templates", "maybe"], out _, out var error));
        Assert.Contains("--templates", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parses_the_image_store_and_repeated_insecure_registries()
    {
        Assert.True(DaemonProgram.TryParse(["--listen", "/l", "--state-dir", "/s", "--images", "/img", "--insecure-registry", "reg.lan:5000", "--insecure-registry", "mirror.lan"], out var options, out _));

        Assert.Equal("/img", options!.EffectiveImagesDir);
        Assert.Equal(["reg.lan:5000", "mirror.lan"], options.InsecureRegistries);
        Assert.Equal("/s2/images", (options with { ImagesDir = null, StateDir = "/s2" }).EffectiveImagesDir);
    }

    [Fact]
    public void Parses_the_limits_in_policy_units()
    {
        Assert.True(DaemonProgram.TryParse(
            ["--listen", "/l", "--state-dir", "/s", "--max-output", "16MiB", "--output-retention", "12h", "--record-retention", "90d", "--min-free-disk", "1GiB",
             "--max-sandbox-vcpus", "3", "--max-sandbox-memory", "2GiB", "--max-sandbox-disk", "10GiB", "--max-total-vcpus", "9", "--max-total-memory", "6GiB", "--max-total-disk", "40GiB"],
            out var options,
            out var error), error);

        Assert.Equal((16L << 20, TimeSpan.FromHours(12), 1L << 30), (options!.MaxOutputBytes, options.OutputRetention, options.MinFreeDiskBytes));
        Assert.Equal(TimeSpan.FromDays(90), options.RecordRetention);
        Assert.Equal((3, 2L << 30, 10L << 30), (options.Limits.MaxVcpus, options.Limits.MaxMemoryBytes, options.Limits.MaxDiskBytes));
        Assert.Equal((9, 6L << 30, 40L << 30), (options.Limits.MaxTotalVcpus, options.Limits.MaxTotalMemoryBytes, options.Limits.MaxTotalDiskBytes));
    }

    [Theory]
    [InlineData("--max-output", "16")]
    [InlineData("--output-retention", "7")]
    [InlineData("--output-retention", "-1d")]
    [InlineData("--record-retention", "0d")]
    [InlineData("--max-sandbox-vcpus", "0")]
    [InlineData("--max-total-memory", "lots")]
    public void Rejects_a_limit_it_cannot_read_naming_the_flag(string flag, string value)
    {
        Assert.False(DaemonProgram.TryParse(["--listen", "/l", "--state-dir", "/s", flag, value], out _, out var error));
        Assert.Contains(flag, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--state-dir", "/s")]
    [InlineData("--listen", "/l")]
    [InlineData("--listen", "/l", "--state-dir")]
    [InlineData("--listen", "/l", "--state-dir", "/s", "--bogus", "x")]
    public void Rejects_missing_or_unknown_options(params string[] args)
    {
        Assert.False(DaemonProgram.TryParse(args, out _, out var error));
        Assert.NotEmpty(error);
    }
}
