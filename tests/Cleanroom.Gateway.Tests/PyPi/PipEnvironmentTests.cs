using Cleanroom.Gateway.Guest;
using Cleanroom.Gateway.Tests.Server;

namespace Cleanroom.Gateway.Tests.PyPi;

/// <summary>The pip and uv variables, from policies compiled by the real policy compiler.</summary>
public sealed class PipEnvironmentTests
{
    private static readonly string[] Expected =
    [
        "PIP_INDEX_URL=http://gateway.cleanroom.internal:8170/pypi/pypi.org/simple/",
        "PIP_TRUSTED_HOST=gateway.cleanroom.internal",
        "UV_DEFAULT_INDEX=http://gateway.cleanroom.internal:8170/pypi/pypi.org/simple/",
    ];

    [Fact]
    public void Pip_and_uv_are_sent_to_the_gateway_when_the_index_and_its_file_host_are_allowed()
    {
        var policy = GatewayHarness.Policy("[pypi.org:443, files.pythonhosted.org:443]");
        Assert.Equal(Expected, PipEnvironment.For(policy, allowAll: false));
        var all = GatewayEnvironment.For(policy, allowAll: false);
        Assert.Equal(Expected, all.Where(v => v.StartsWith("PIP_", StringComparison.Ordinal) || v.StartsWith("UV_", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("[pypi.org:443]", "[]")]
    [InlineData("[files.pythonhosted.org:443]", "[]")]
    [InlineData("[pypi.org:80, files.pythonhosted.org:443]", "[]")]
    [InlineData("[\"*.pythonhosted.org:443\", pypi.org:443]", "[files.pythonhosted.org:443]")]
    [InlineData("[github.com:443]", "[]")]
    public void Nothing_is_set_unless_both_hosts_are_allowed_on_443(string allow, string deny)
    {
        var policy = GatewayHarness.Policy(allow, deny);
        Assert.Empty(PipEnvironment.For(policy, allowAll: false));
        Assert.DoesNotContain(GatewayEnvironment.For(policy, allowAll: false), v => v.StartsWith("PIP_", StringComparison.Ordinal));
    }

    [Fact]
    public void A_wildcard_rule_covers_the_file_host() =>
        Assert.Equal(Expected, PipEnvironment.For(GatewayHarness.Policy("[\"*.pythonhosted.org:443\", pypi.org:443]"), allowAll: false));

    [Fact]
    public void An_allow_all_sandbox_gets_them_whatever_its_rules() =>
        Assert.Equal(Expected, PipEnvironment.For(GatewayHarness.Policy("[github.com:443]"), allowAll: true));
}
