using Cleanroom.Daemon.Hosting;

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
    public void Parses_the_image_store_and_repeated_insecure_registries()
    {
        Assert.True(DaemonProgram.TryParse(["--listen", "/l", "--state-dir", "/s", "--images", "/img", "--insecure-registry", "reg.lan:5000", "--insecure-registry", "mirror.lan"], out var options, out _));

        Assert.Equal("/img", options!.EffectiveImagesDir);
        Assert.Equal(["reg.lan:5000", "mirror.lan"], options.InsecureRegistries);
        Assert.Equal("/s2/images", (options with { ImagesDir = null, StateDir = "/s2" }).EffectiveImagesDir);
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
