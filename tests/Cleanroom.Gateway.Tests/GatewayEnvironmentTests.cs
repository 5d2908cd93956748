using Cleanroom.Gateway.Guest;
using Cleanroom.Policy;

namespace Cleanroom.Gateway.Tests;

/// <summary>The variables an execution gets, from policies compiled by the real policy compiler.</summary>
public sealed class GatewayEnvironmentTests
{
    private const string Image = "ghcr.io/buildkite/cleanroom-base/debian@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private static NetworkPolicy Compile(string allow, string deny = "[]")
    {
        var yaml = $"version: 1\nsandbox:\n  image:\n    ref: {Image}\n  network:\n    allow: {allow}\n    deny: {deny}\n";
        var result = PolicyCompiler.Compile(yaml, "test.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        return result.Policy!.Network;
    }

    [Fact]
    public void Each_exact_name_allowed_on_443_gets_a_git_rewrite_in_name_order()
    {
        var policy = Compile(
            """[gitlab.com:443, GitHub.com:443, "*.example.com:443", example.org:80, {host: api.example.net, ports: [80, 443]}, 192.0.2.7:443, "10.0.0.0/8:443", {host: "2001:db8::1", ports: [443]}]""");

        var variables = GatewayEnvironment.For(policy, allowAll: false);

        Assert.Equal(
        [
            "CLEANROOM_GATEWAY_URL=http://gateway.cleanroom.internal:8170",
            "GIT_CONFIG_COUNT=3",
            "GIT_CONFIG_KEY_0=url.http://gateway.cleanroom.internal:8170/git/api.example.net/.insteadOf",
            "GIT_CONFIG_VALUE_0=https://api.example.net/",
            "GIT_CONFIG_KEY_1=url.http://gateway.cleanroom.internal:8170/git/github.com/.insteadOf",
            "GIT_CONFIG_VALUE_1=https://github.com/",
            "GIT_CONFIG_KEY_2=url.http://gateway.cleanroom.internal:8170/git/gitlab.com/.insteadOf",
            "GIT_CONFIG_VALUE_2=https://gitlab.com/",
        ],
            variables);
        Assert.Equal(variables, GatewayEnvironment.For(policy, allowAll: false)); // deterministic
    }

    [Fact]
    public void An_allow_all_sandbox_gets_the_rewrites_of_its_named_hosts_too()
    {
        var policy = Compile("[github.com:443, example.com:80]");

        Assert.Equal(["github.com"], GatewayEnvironment.GitHosts(policy, allowAll: true));
    }

    [Fact]
    public void Without_names_only_the_url_is_given()
    {
        Assert.Equal(["CLEANROOM_GATEWAY_URL=http://gateway.cleanroom.internal:8170"], GatewayEnvironment.For(NetworkPolicy.DenyAll, allowAll: false));

        // Allow-all sandboxes still get no git rewrites without names (package routes' variables may be present).
        var allowAll = GatewayEnvironment.For(Compile("[\"*.github.com:443\", example.com:80]"), allowAll: true);
        Assert.Equal("CLEANROOM_GATEWAY_URL=http://gateway.cleanroom.internal:8170", allowAll[0]);
        Assert.DoesNotContain(allowAll, v => v.StartsWith("GIT_", StringComparison.Ordinal));
    }

    [Fact]
    public void The_number_of_rewrites_is_bounded_to_the_first_names_in_order()
    {
        var names = Enumerable.Range(0, GatewayEnvironment.MaxGitHosts + 44).Select(i => $"h{i:D4}.example.com:443");
        var policy = Compile("[" + string.Join(", ", names) + "]");

        var variables = GatewayEnvironment.For(policy, allowAll: false);

        Assert.Equal(2 + (2 * GatewayEnvironment.MaxGitHosts), variables.Count);
        Assert.Contains($"GIT_CONFIG_COUNT={GatewayEnvironment.MaxGitHosts}", variables);
        Assert.Contains("GIT_CONFIG_VALUE_0=https://h0000.example.com/", variables);
        Assert.Contains($"GIT_CONFIG_VALUE_{GatewayEnvironment.MaxGitHosts - 1}=https://h0255.example.com/", variables);
        Assert.DoesNotContain(variables, v => v.Contains("h0256", StringComparison.Ordinal));
    }
}
