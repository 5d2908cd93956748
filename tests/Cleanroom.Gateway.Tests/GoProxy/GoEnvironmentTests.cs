using Cleanroom.Gateway.Guest;
using Cleanroom.Gateway.Tests.Server;

namespace Cleanroom.Gateway.Tests.GoProxy;

/// <summary>The go command's variables in guests, from policies compiled by the real policy compiler.</summary>
public sealed class GoEnvironmentTests
{
    private const string GoProxy = "GOPROXY=http://gateway.cleanroom.internal:8170/goproxy/proxy.golang.org";

    [Fact]
    public void A_policy_allowing_the_module_proxy_sends_go_through_the_gateway_and_nowhere_else()
    {
        var policy = GatewayHarness.Policy("[proxy.golang.org:443, sum.golang.org:443]");
        Assert.Equal([GoProxy], GoEnvironment.For(policy, allowAll: false));

        // GOSUMDB is left to its default even without sum.golang.org: go then stops at the gateway's refusal
        // instead of installing modules unverified.
        Assert.Equal([GoProxy], GoEnvironment.For(GatewayHarness.Policy("[proxy.golang.org:443]"), allowAll: false));
        var all = GatewayEnvironment.For(policy, allowAll: false);
        Assert.Contains(GoProxy, all);
        Assert.DoesNotContain(all, v => v.StartsWith("GOSUMDB=", StringComparison.Ordinal) || v.StartsWith("GONOSUMDB=", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("[github.com:443]", "[]")]
    [InlineData("[proxy.golang.org:80]", "[]")]
    [InlineData("[\"*.golang.org:443\"]", "[proxy.golang.org:443]")]
    public void Without_the_module_proxy_on_443_nothing_is_set(string allow, string deny)
    {
        var policy = GatewayHarness.Policy(allow, deny);
        Assert.Empty(GoEnvironment.For(policy, allowAll: false));
        Assert.DoesNotContain(GatewayEnvironment.For(policy, allowAll: false), v => v.StartsWith("GOPROXY=", StringComparison.Ordinal));
    }

    [Fact]
    public void A_wildcard_rule_that_covers_the_proxy_counts_and_allow_all_keeps_direct_after_the_gateway()
    {
        Assert.Equal([GoProxy], GoEnvironment.For(GatewayHarness.Policy("[\"*.golang.org:443\"]"), allowAll: false));

        // Allow-all sandboxes reach the internet directly: public modules come through the cache, the rest as go does.
        Assert.Equal([GoProxy + ",direct"], GoEnvironment.For(GatewayHarness.Policy("[github.com:443]"), allowAll: true));
    }
}
