using Cleanroom.Gateway.Guest;
using Cleanroom.Gateway.Tests.Server;
using Cleanroom.Policy;

namespace Cleanroom.Gateway.Tests.Npm;

/// <summary>The npm variables a guest gets, from policies compiled by the real policy compiler.</summary>
public sealed class NpmEnvironmentTests
{
    private const string Registry = "http://gateway.cleanroom.internal:8170/npm/registry.npmjs.org/";

    [Fact]
    public void A_policy_that_allows_the_registry_points_npm_pnpm_and_yarn_at_the_gateway()
    {
        var variables = GatewayEnvironment.For(GatewayHarness.Policy("[registry.npmjs.org:443]"), allowAll: false);

        Assert.Equal(
        [
            "CLEANROOM_GATEWAY_URL=http://gateway.cleanroom.internal:8170",
            "npm_config_registry=" + Registry,
            "YARN_NPM_REGISTRY_SERVER=" + Registry,
            "YARN_UNSAFE_HTTP_WHITELIST=gateway.cleanroom.internal",
            "GIT_CONFIG_COUNT=1",
            "GIT_CONFIG_KEY_0=url.http://gateway.cleanroom.internal:8170/git/registry.npmjs.org/.insteadOf",
            "GIT_CONFIG_VALUE_0=https://registry.npmjs.org/",
        ],
            variables);
    }

    [Fact]
    public void A_wildcard_that_covers_the_registry_counts_too()
    {
        Assert.Contains("npm_config_registry=" + Registry, NpmEnvironment.For(GatewayHarness.Policy("[\"*.npmjs.org:443\"]"), false, GatewayEnvironment.BaseUrl));
    }

    [Theory]
    [InlineData("[registry.npmjs.org:80]", "[]")]
    [InlineData("[registry.yarnpkg.com:443, github.com:443]", "[]")]
    [InlineData("[\"*.npmjs.org:443\"]", "[registry.npmjs.org:443]")]
    public void Without_the_registry_on_443_npm_is_left_alone(string allow, string deny)
    {
        Assert.Empty(NpmEnvironment.For(GatewayHarness.Policy(allow, deny), allowAll: false, GatewayEnvironment.BaseUrl));
        Assert.DoesNotContain(GatewayEnvironment.For(GatewayHarness.Policy(allow, deny), allowAll: false), v => v.StartsWith("npm_config_", StringComparison.Ordinal));
    }

    [Fact]
    public void An_allow_all_sandbox_uses_the_gateway_for_npm()
    {
        Assert.Equal(3, NpmEnvironment.For(NetworkPolicy.DenyAll, allowAll: true, "http://127.0.0.1:9/").Count);
        Assert.Contains("npm_config_registry=http://127.0.0.1:9/npm/registry.npmjs.org/", NpmEnvironment.For(NetworkPolicy.DenyAll, true, "http://127.0.0.1:9/"));
    }
}
