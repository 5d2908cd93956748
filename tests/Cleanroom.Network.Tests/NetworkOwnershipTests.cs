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
        using var again = ClaimOnceFree(table);
    }

    /// <summary>
    /// The name is free once every copy of the socket is closed. A process this test host starts at that moment
    /// (another test running a program) holds a copy from its fork until its exec closes it, and CI once hit that
    /// instant; the kernel says nothing when it ends, so the claim is retried for a bounded time.
    /// </summary>
    private static NetworkOwnership ClaimOnceFree(string table)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                return NetworkOwnership.Claim(table);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(1);
            }
        }
    }
}
