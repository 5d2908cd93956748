using Cleanroom.Gateway.Cache.Eviction;

namespace Cleanroom.Gateway.Tests;

public sealed class S3FifoPolicyTests
{
    // 1000 bytes: the small queue's share is 100, so objects of 100 fill it.
    private static S3FifoPolicy<string> NewPolicy(int ghosts = 100) => new(1000, ghosts);

    [Fact]
    public void New_objects_enter_the_small_queue()
    {
        var policy = NewPolicy();
        Assert.Empty(policy.Insert("a", 100));
        Assert.True(policy.Contains("a"));
        Assert.False(policy.IsInMain("a"));
        Assert.Equal(100, policy.SmallBytes);
    }

    [Fact]
    public void An_unhit_small_object_is_evicted_first_and_becomes_a_ghost()
    {
        var policy = NewPolicy();
        for (var i = 0; i < 10; i++)
        {
            policy.Insert($"k{i}", 100);
        }

        var evicted = policy.Insert("k10", 100);

        Assert.Equal(["k0"], evicted);
        Assert.True(policy.IsGhost("k0"));
        Assert.Equal(1000, policy.UsedBytes);
    }

    [Fact]
    public void A_small_object_hit_while_in_small_moves_to_main_instead_of_leaving()
    {
        var policy = NewPolicy();
        for (var i = 0; i < 10; i++)
        {
            policy.Insert($"k{i}", 100);
        }

        policy.Access("k0");
        var evicted = policy.Insert("k10", 100);

        Assert.Equal(["k1"], evicted);
        Assert.True(policy.IsInMain("k0"));
    }

    [Fact]
    public void A_ghost_that_comes_back_goes_straight_to_main()
    {
        var policy = NewPolicy();
        for (var i = 0; i <= 10; i++)
        {
            policy.Insert($"k{i}", 100);
        }

        Assert.True(policy.IsGhost("k0"));
        policy.Insert("k0", 100);

        Assert.True(policy.IsInMain("k0"));
        Assert.False(policy.IsGhost("k0"));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 4)]
    [InlineData(3, 10)]
    [InlineData(5, 10)] // hits past three buy nothing more
    public void Main_gives_one_second_chance_per_hit_capped_at_three(int hits, int evictedInRound)
    {
        Assert.Equal(evictedInRound, RoundsUntilEvicted(hits));
    }

    /// <summary>
    /// Puts x, y, z in main (a budget of three objects, small queue empty), hits x, then feeds main one ghost per
    /// round (each costs main one eviction) and counts the rounds until x leaves.
    /// </summary>
    private static int RoundsUntilEvicted(int hits)
    {
        var policy = new S3FifoPolicy<string>(300, ghostCapacity: 100);
        foreach (var key in new[] { "x", "y", "z" })
        {
            policy.Insert(key, 100);
            policy.Access(key);
        }

        Assert.Equal(["w"], policy.Insert("w", 100)); // promotes x, y, z; w itself leaves small
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal([$"g{i}"], policy.Insert($"g{i}", 100)); // makes ghosts; main untouched
        }

        Assert.True(policy.IsInMain("x") && policy.IsInMain("y") && policy.IsInMain("z"));
        for (var i = 0; i < hits; i++)
        {
            policy.Access("x");
        }

        for (var round = 1; round <= 20; round++)
        {
            if (policy.Insert($"g{round - 1}", 100).Contains("x"))
            {
                return round;
            }
        }

        return -1;
    }

    [Fact]
    public void Pinned_objects_are_never_evicted()
    {
        var policy = NewPolicy();
        policy.Insert("pinned", 500);
        policy.SetPinned("pinned", true);
        for (var i = 0; i < 100; i++)
        {
            policy.Insert($"k{i}", 100);
        }

        Assert.True(policy.Contains("pinned"));
        Assert.True(policy.UsedBytes <= 1000);
    }

    [Fact]
    public void When_only_pinned_objects_are_left_eviction_stops_over_budget()
    {
        var policy = NewPolicy();
        policy.Insert("a", 600);
        policy.SetPinned("a", true);
        policy.Insert("b", 300);
        policy.SetPinned("b", true);

        // c does not fit beside the pinned two, so it is the one that goes; a and b stay.
        Assert.Equal(["c"], policy.Insert("c", 600));
        Assert.Equal(900, policy.UsedBytes);

        // Unpinned, a is fair game again: c comes back as a ghost, straight into main, and a makes room.
        policy.SetPinned("a", false);
        Assert.Equal(["a"], policy.Insert("c", 600));
    }

    [Fact]
    public void The_ghost_set_is_bounded_by_count()
    {
        var policy = NewPolicy(ghosts: 5);
        for (var i = 0; i < 100; i++)
        {
            policy.Insert($"k{i}", 100);
        }

        Assert.Equal(5, policy.GhostCount);
        Assert.True(policy.IsGhost("k89"));
        Assert.False(policy.IsGhost("k0"));
    }

    [Fact]
    public void Removed_objects_free_their_bytes_and_are_not_ghosts()
    {
        var policy = NewPolicy();
        policy.Insert("a", 100);
        Assert.True(policy.Remove("a"));
        Assert.Equal(0, policy.UsedBytes);
        Assert.False(policy.IsGhost("a"));
        Assert.False(policy.Remove("a"));
    }

    [Fact]
    public void A_scan_does_not_flush_the_hot_set_as_it_does_from_lru()
    {
        var s3 = new S3FifoPolicy<string>(10_000, ghostCapacity: 1000);
        var lru = new LruPolicy<string>(10_000);
        foreach (var policy in new IEvictionPolicy<string>[] { s3, lru })
        {
            // A hot set of 50 objects (half the budget), used a few times.
            for (var round = 0; round < 3; round++)
            {
                for (var i = 0; i < 50; i++)
                {
                    if (!policy.Access($"hot{i}"))
                    {
                        policy.Insert($"hot{i}", 100);
                    }
                }
            }

            // A one-off scan three times the budget.
            for (var i = 0; i < 300; i++)
            {
                policy.Insert($"scan{i}", 100);
            }
        }

        Assert.Equal(50, Enumerable.Range(0, 50).Count(i => s3.Contains($"hot{i}")));
        Assert.Equal(0, Enumerable.Range(0, 50).Count(i => lru.Contains($"hot{i}")));
    }
}
