using Cleanroom.Daemon.Executions;
using Cleanroom.Gateway.Guest;
using Cleanroom.Oci;
using Cleanroom.Policy;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// A CI job that sets git configuration through GIT_CONFIG_COUNT (safe.directory is common) must keep the gateway's
/// URL rewrites too: otherwise its clones go straight to a host the firewall blocks.
/// </summary>
public sealed class GitConfigMergeTests
{
    private static readonly IReadOnlyList<string> Gateway =
    [
        "CLEANROOM_GATEWAY_URL=http://gateway.cleanroom.internal:8170",
        "GIT_CONFIG_COUNT=2",
        "GIT_CONFIG_KEY_0=url.http://gateway.cleanroom.internal:8170/git/a.test/.insteadOf",
        "GIT_CONFIG_VALUE_0=https://a.test/",
        "GIT_CONFIG_KEY_1=url.http://gateway.cleanroom.internal:8170/git/b.test/.insteadOf",
        "GIT_CONFIG_VALUE_1=https://b.test/",
    ];

    private static Dictionary<string, string> AsMap(IEnumerable<string> entries) =>
        entries.Select(e => e.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);

    [Fact]
    public void Without_git_configuration_of_its_own_a_job_gets_the_gateways_as_it_is()
    {
        var env = AsMap(ExecDefaults.Env(["A=1"], new RunDefaults(), Gateway));

        Assert.Equal("2", env["GIT_CONFIG_COUNT"]);
        Assert.Equal("https://a.test/", env["GIT_CONFIG_VALUE_0"]);
        Assert.Equal("https://b.test/", env["GIT_CONFIG_VALUE_1"]);
        Assert.Equal("1", env["A"]);
    }

    [Fact]
    public void A_jobs_own_pairs_come_first_and_the_gateways_follow_them()
    {
        var env = AsMap(ExecDefaults.Env(
            ["GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=safe.directory", "GIT_CONFIG_VALUE_0=*"], new RunDefaults(), Gateway));

        Assert.Equal("3", env["GIT_CONFIG_COUNT"]);
        Assert.Equal(("safe.directory", "*"), (env["GIT_CONFIG_KEY_0"], env["GIT_CONFIG_VALUE_0"]));
        Assert.Equal("https://a.test/", env["GIT_CONFIG_VALUE_1"]);
        Assert.Equal("https://b.test/", env["GIT_CONFIG_VALUE_2"]);
        Assert.EndsWith("/git/b.test/.insteadOf", env["GIT_CONFIG_KEY_2"], StringComparison.Ordinal);
    }

    [Fact]
    public void The_images_pairs_count_as_the_jobs_and_the_requests_override_the_images()
    {
        var image = new RunDefaults { Env = ["GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=core.autocrlf", "GIT_CONFIG_VALUE_0=false"] };

        var fromImage = AsMap(ExecDefaults.Env([], image, Gateway));
        Assert.Equal("3", fromImage["GIT_CONFIG_COUNT"]);
        Assert.Equal("core.autocrlf", fromImage["GIT_CONFIG_KEY_0"]);

        var overridden = AsMap(ExecDefaults.Env(["GIT_CONFIG_COUNT=0"], image, Gateway));
        Assert.Equal("2", overridden["GIT_CONFIG_COUNT"]);
        Assert.Equal("https://a.test/", overridden["GIT_CONFIG_VALUE_0"]);
    }

    [Fact]
    public void A_count_git_would_refuse_is_left_for_the_job_to_fix()
    {
        var env = AsMap(ExecDefaults.Env(["GIT_CONFIG_COUNT=lots", "GIT_CONFIG_KEY_0=x.y", "GIT_CONFIG_VALUE_0=z"], new RunDefaults(), Gateway));

        Assert.Equal("lots", env["GIT_CONFIG_COUNT"]);
        Assert.Equal("x.y", env["GIT_CONFIG_KEY_0"]);
        Assert.False(env.ContainsKey("GIT_CONFIG_KEY_1"));
        Assert.Equal("http://gateway.cleanroom.internal:8170", env["CLEANROOM_GATEWAY_URL"]);
    }

    [Fact]
    public void The_gateways_real_variables_survive_a_jobs_configuration()
    {
        var policy = PolicyCompiler.Compile(
            "version: 1\nsandbox:\n  image:\n    ref: ghcr.io/buildkite/cleanroom-base/debian@sha256:aaaaaaaa0123456789abcdef0123456789abcdef0123456789abcdefbbbbbbbb\n  network:\n    allow: [\"github.com:443\"]\n",
            "test.yaml").Policy!.Network;
        var gateway = GatewayEnvironment.For(policy, allowAll: false);

        var env = AsMap(ExecDefaults.Env(["GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=safe.directory", "GIT_CONFIG_VALUE_0=*"], new RunDefaults(), gateway));

        Assert.Equal("2", env["GIT_CONFIG_COUNT"]);
        Assert.Equal("https://github.com/", env["GIT_CONFIG_VALUE_1"]);
    }
}
