using Cleanroom.Gateway.Guest;
using Cleanroom.Gateway.Tests.Server;

namespace Cleanroom.Gateway.Tests.RubyGems;

/// <summary>The Bundler mirror variable, from policies compiled by the real policy compiler.</summary>
public sealed class RubyGemsEnvironmentTests
{
    private const string Mirror = "BUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/=http://gateway.cleanroom.internal:8170/rubygems/rubygems.org";

    [Fact]
    public void Bundler_is_sent_to_the_gateway_when_rubygems_org_is_allowed_on_443()
    {
        var policy = GatewayHarness.Policy("[rubygems.org:443]");
        Assert.Equal([Mirror], RubyGemsEnvironment.For(policy, allowAll: false));
        Assert.Contains(Mirror, GatewayEnvironment.For(policy, allowAll: false));
        Assert.Equal([Mirror], RubyGemsEnvironment.For(GatewayHarness.Policy("[github.com:443]"), allowAll: true));
    }

    [Theory]
    [InlineData("[rubygems.org:80]", "[]")]
    [InlineData("[github.com:443]", "[]")]
    [InlineData("[\"*.rubygems.org:443\"]", "[]")]
    public void Nothing_is_set_unless_rubygems_org_is_allowed_on_443(string allow, string deny)
    {
        var policy = GatewayHarness.Policy(allow, deny);
        Assert.Empty(RubyGemsEnvironment.For(policy, allowAll: false));
        Assert.DoesNotContain(GatewayEnvironment.For(policy, allowAll: false), v => v.StartsWith("BUNDLE_", StringComparison.Ordinal));
    }
}
