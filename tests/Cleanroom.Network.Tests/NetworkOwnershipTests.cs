namespace Cleanroom.Network.Tests;

/// <summary>One daemon per network namespace and table: a second claim is refused until the first is let go.</summary>
public sealed class NetworkOwnershipTests
{
    [Fact]
    public void A_second_claim_on_the_same_table_is_refused_until_the_first_is_released()
    {
        var table = "test-" + Guid.NewGuid().ToString("N");
        var first = NetworkOwnership.Claim(table);
        var refused = Assert.Throws<IOException>(() => NetworkOwnership.Claim(table));
        Assert.Contains("another Cleanroom daemon runs the sandbox network", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--network off", refused.Message, StringComparison.Ordinal);

        using (NetworkOwnership.Claim(table + "-other"))
        {
            // Another table (a test's own) is another network.
        }

        first.Dispose();
        using var again = NetworkOwnership.Claim(table);
    }
}
