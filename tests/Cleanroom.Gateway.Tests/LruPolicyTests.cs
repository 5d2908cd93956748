using Cleanroom.Gateway.Cache.Eviction;

namespace Cleanroom.Gateway.Tests;

public sealed class LruPolicyTests
{
    [Fact]
    public void Evicts_the_least_recently_used_first()
    {
        var policy = new LruPolicy<string>(300);
        policy.Insert("a", 100);
        policy.Insert("b", 100);
        policy.Insert("c", 100);
        policy.Access("a");

        Assert.Equal(["b"], policy.Insert("d", 100));
        Assert.Equal(300, policy.UsedBytes);
    }

    [Fact]
    public void Skips_pinned_objects_and_stops_when_only_they_are_left()
    {
        var policy = new LruPolicy<string>(300);
        policy.Insert("a", 200);
        policy.SetPinned("a", true);
        policy.Insert("b", 100);

        Assert.Equal(["b"], policy.Insert("c", 100));
        Assert.Equal(["c", "d"], policy.Insert("d", 200));
        Assert.True(policy.Contains("a"));
    }

    [Fact]
    public void Inserting_a_tracked_key_counts_as_a_hit()
    {
        var policy = new LruPolicy<string>(200);
        policy.Insert("a", 100);
        policy.Insert("b", 100);
        Assert.Empty(policy.Insert("a", 100));
        Assert.Equal(["b"], policy.Insert("c", 100));
    }
}
