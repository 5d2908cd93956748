using Cleanroom.Gateway.Cache;

namespace Cleanroom.Gateway.Tests;

public sealed class ContentCacheOptionsTests
{
    [Fact]
    public void The_defaults_keep_an_object_well_below_a_tenth_of_the_budget()
    {
        var options = new ContentCacheOptions { RootDirectory = "/tmp/cache" };

        Assert.Equal(10L << 30, options.MaxTotalBytes);
        Assert.Equal(512L << 20, options.MaxObjectBytes);
        options.Validate();
    }

    [Fact]
    public void The_default_object_bound_follows_the_budget()
    {
        var options = new ContentCacheOptions { RootDirectory = "/tmp/cache", MaxTotalBytes = 1L << 30 };

        Assert.Equal((1L << 30) / 20, options.MaxObjectBytes);
        options.Validate();
    }

    [Fact]
    public void An_object_bound_over_a_tenth_of_the_budget_is_rejected_naming_both_settings()
    {
        var options = new ContentCacheOptions { RootDirectory = "/tmp/cache", MaxTotalBytes = 10_000, MaxObjectBytes = 1_001 };

        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(nameof(ContentCacheOptions.MaxObjectBytes), error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(ContentCacheOptions.MaxTotalBytes), error.Message, StringComparison.Ordinal);
        (options with { MaxObjectBytes = 1_000 }).Validate();
    }
}
