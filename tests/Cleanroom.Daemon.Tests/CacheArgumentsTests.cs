using Cleanroom.Daemon.Hosting;

namespace Cleanroom.Daemon.Tests;

/// <summary>The content cache's flags (<c>--cache-dir</c>, <c>--cache-max-size</c>) as <c>cleanroom serve</c> passes them.</summary>
public sealed class CacheArgumentsTests
{
    private static readonly string[] Required = ["--listen", "/tmp/cr.sock", "--state-dir", "/tmp/cr-state"];

    [Fact]
    public void The_cache_lives_under_the_state_directory_with_10_GiB_unless_told_otherwise()
    {
        Assert.True(DaemonArguments.TryParse(Required, out var defaults, out var error), error);
        Assert.Equal("/tmp/cr-state/cache", defaults!.EffectiveCacheDir);
        Assert.Equal(10L << 30, defaults.CacheMaxBytes);

        Assert.True(DaemonArguments.TryParse([.. Required, "--cache-dir", "/srv/cr-cache", "--cache-max-size", "200GB"], out var set, out error), error);
        Assert.Equal("/srv/cr-cache", set!.EffectiveCacheDir);
        Assert.Equal(200L * 1000 * 1000 * 1000, set.CacheMaxBytes);
    }

    [Theory]
    [InlineData("lots", "--cache-max-size takes a size such as 512MiB or 8GiB (got 'lots')")]
    [InlineData("10", "--cache-max-size takes a size")]
    [InlineData("512KiB", "--cache-max-size must be at least 1MiB (got '512KiB')")]
    [InlineData("0B", "--cache-max-size must be at least 1MiB")]
    public void A_bad_cache_size_is_refused_with_the_flag_named(string value, string message)
    {
        Assert.False(DaemonArguments.TryParse([.. Required, "--cache-max-size", value], out _, out var error));
        Assert.StartsWith(message, error, StringComparison.Ordinal);
    }
}
