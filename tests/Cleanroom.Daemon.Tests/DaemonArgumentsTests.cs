using Cleanroom.Daemon.Hosting;

namespace Cleanroom.Daemon.Tests;

/// <summary>The network flags <c>cleanroom serve</c> passes to the daemon: parsed as written, or refused with the flag named.</summary>
public sealed class DaemonArgumentsTests
{
    private static readonly string[] Required = ["--listen", "/tmp/cr.sock", "--state-dir", "/tmp/cr-state"];

    [Fact]
    public void IPv6_is_auto_with_the_default_pool_unless_told_otherwise()
    {
        Assert.True(DaemonArguments.TryParse(Required, out var defaults, out _));
        Assert.Equal(DaemonNetworkMode.Auto, defaults!.Ipv6);
        Assert.Null(defaults.NetworkSettings.Pool6);

        Assert.True(DaemonArguments.TryParse([.. Required, "--ipv6", "off", "--network-pool6", "fd12:3456::/64"], out var set, out var error), error);
        Assert.Equal(DaemonNetworkMode.Off, set!.Ipv6);
        Assert.Equal(System.Net.IPNetwork.Parse("fd12:3456::/64"), set.NetworkSettings.Pool6);
    }

    [Theory]
    [InlineData(null, Cleanroom.Network.GuardMode.Queue, true)]
    [InlineData("auto", Cleanroom.Network.GuardMode.Queue, true)]
    [InlineData("queue", Cleanroom.Network.GuardMode.Queue, false)]
    [InlineData("proxy", Cleanroom.Network.GuardMode.Proxy, false)]
    public void The_guard_mode_is_queue_with_a_fallback_unless_one_is_chosen(string? value, Cleanroom.Network.GuardMode mode, bool fallback)
    {
        Assert.True(DaemonArguments.TryParse(value is null ? Required : [.. Required, "--guard-mode", value], out var options, out var error), error);
        Assert.Equal(mode, options!.NetworkSettings.GuardMode);
        Assert.Equal(fallback, options.GuardModeFallback);
    }

    [Fact]
    public void A_stop_keeps_the_sandboxes_running_unless_told_to_stop_them()
    {
        Assert.True(DaemonArguments.TryParse(Required, out var defaults, out _));
        Assert.True(defaults!.KeepSandboxesOnStop);
        Assert.True(DaemonArguments.TryParse([.. Required, "--on-stop", "stop"], out var stop, out _));
        Assert.False(stop!.KeepSandboxesOnStop);
        Assert.False(DaemonArguments.TryParse([.. Required, "--on-stop", "pause"], out _, out var error));
        Assert.Contains("--on-stop", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_warm_pool_is_off_unless_sized_and_needs_templates()
    {
        Assert.True(DaemonArguments.TryParse(Required, out var defaults, out _));
        Assert.Equal(0, defaults!.WarmPool);
        Assert.True(DaemonArguments.TryParse([.. Required, "--warm-pool", "2"], out var two, out var error), error);
        Assert.Equal(2, two!.WarmPool);
        foreach (var bad in new[] { "-1", "17", "two", "" })
        {
            Assert.False(DaemonArguments.TryParse([.. Required, "--warm-pool", bad], out _, out error));
            Assert.Contains("--warm-pool takes a whole number from 0 to 16", error, StringComparison.Ordinal);
        }

        Assert.False(DaemonArguments.TryParse([.. Required, "--warm-pool", "1", "--templates", "off"], out _, out error));
        Assert.Contains("--warm-pool needs --templates on", error, StringComparison.Ordinal);
        Assert.True(DaemonArguments.TryParse([.. Required, "--warm-pool", "0", "--templates", "off"], out _, out error), error);
    }

    [Fact]
    public void Workspace_limits_are_the_defaults_unless_set()
    {
        Assert.True(DaemonArguments.TryParse(Required, out var defaults, out _));
        Assert.Equal(10L << 30, defaults!.MaxWorkspaceTreeBytes);
        Assert.Equal(2_000_000, defaults.MaxWorkspaceTreeEntries);
        Assert.Equal(20L << 30, defaults.MaxWorkspaceStoreBytes);

        Assert.True(DaemonArguments.TryParse(
            [.. Required, "--workspace-max-size", "40GiB", "--workspace-max-files", "5000000", "--workspace-store-size", "100GiB"], out var set, out var error), error);
        Assert.Equal(40L << 30, set!.MaxWorkspaceTreeBytes);
        Assert.Equal(5_000_000, set.MaxWorkspaceTreeEntries);
        Assert.Equal(100L << 30, set.MaxWorkspaceStoreBytes);
    }

    [Theory]
    [InlineData("--workspace-max-files", "0", "--workspace-max-files takes a positive whole number")]
    [InlineData("--workspace-max-size", "lots", "--workspace-max-size takes a size")]
    [InlineData("--guard-mode", "nfqueue", "--guard-mode takes auto, proxy or queue")]
    [InlineData("--ipv6", "yes", "--ipv6 takes auto, on or off")]
    [InlineData("--network-pool6", "10.0.0.0/8", "--network-pool6 takes an IPv6 block")]
    [InlineData("--network-pool6", "fd12::/32", "--network-pool6 takes an IPv6 block")]
    [InlineData("--network-pool6", "::ffff:10.0.0.0/104", "--network-pool6 takes an IPv6 block")]
    [InlineData("--network-pool6", "fd12::1/64", "--network-pool6 takes an IPv6 block")]
    public void Bad_IPv6_settings_are_refused_with_the_flag_named(string flag, string value, string message)
    {
        Assert.False(DaemonArguments.TryParse([.. Required, flag, value], out _, out var error));
        Assert.StartsWith(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_gateway_is_auto_without_credentials_or_upstreams_unless_told_otherwise()
    {
        Assert.True(DaemonArguments.TryParse(Required, out var defaults, out _));
        Assert.Equal(DaemonNetworkMode.Auto, defaults!.Gateway);
        Assert.Null(defaults.GatewayCredentialsFile);
        Assert.Null(defaults.GatewayRegistryAuthFile);
        Assert.Empty(defaults.GatewayUpstreams);

        var credentials = Path.GetTempFileName();
        var registryAuth = Path.GetTempFileName();
        try
        {
            Assert.True(DaemonArguments.TryParse(
                [.. Required, "--gateway", "on", "--gateway-credentials", credentials, "--gateway-registry-auth", registryAuth,
                 "--gateway-upstream", "GitHub.com=http://127.0.0.1:8080/mirror/", "--gateway-upstream", "gitlab.com=https://gl.internal"],
                out var set, out var error), error);
            Assert.Equal(DaemonNetworkMode.On, set!.Gateway);
            Assert.Equal(credentials, set.GatewayCredentialsFile);
            Assert.Equal(registryAuth, set.GatewayRegistryAuthFile);
            Assert.Equal(new Uri("http://127.0.0.1:8080/mirror/"), set.GatewayUpstreams["github.com"]); // the host as policies spell it
            Assert.Equal(new Uri("https://gl.internal"), set.GatewayUpstreams["gitlab.com"]);
        }
        finally
        {
            File.Delete(credentials);
            File.Delete(registryAuth);
        }
    }

    [Theory]
    [InlineData("--gateway", "maybe", "--gateway takes auto, on or off")]
    [InlineData("--gateway-credentials", "/nonexistent/credentials.json", "--gateway-credentials: no such file")]
    [InlineData("--gateway-registry-auth", "/nonexistent/config.json", "--gateway-registry-auth: no such file")]
    [InlineData("--gateway-registry-auth", "", "--gateway-registry-auth takes a file name")]
    [InlineData("--gateway-upstream", "github.com", "--gateway-upstream takes HOST=URL")]
    [InlineData("--gateway-upstream", "*.github.com=https://mirror.test/", "--gateway-upstream takes HOST=URL")]
    [InlineData("--gateway-upstream", "10.0.0.1=https://mirror.test/", "--gateway-upstream takes HOST=URL")]
    [InlineData("--gateway-upstream", "github.com=ftp://mirror.test/", "the URL must be http:// or https://")]
    [InlineData("--gateway-upstream", "github.com=https://user:pw@mirror.test/", "the URL must be http:// or https://")]
    [InlineData("--gateway-upstream", "github.com=https://mirror.test/?x=1", "the URL must be http:// or https://")]
    [InlineData("--gateway-upstream", "github.com=/relative", "the URL must be http:// or https://")]
    public void Bad_gateway_settings_are_refused_with_the_flag_named(string flag, string value, string message)
    {
        Assert.False(DaemonArguments.TryParse([.. Required, flag, value], out _, out var error));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gateway_upstream_host_given_twice_is_refused()
    {
        Assert.False(DaemonArguments.TryParse(
            [.. Required, "--gateway-upstream", "github.com=https://a.test/", "--gateway-upstream", "GITHUB.com=https://b.test/"], out _, out var error));
        Assert.Contains("names github.com twice", error, StringComparison.Ordinal);
    }
}
