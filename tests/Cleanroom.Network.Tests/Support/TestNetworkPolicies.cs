using Cleanroom.Policy;

namespace Cleanroom.Network.Tests.Support;

/// <summary>Network policies compiled from YAML by the real policy compiler.</summary>
public static class TestNetworkPolicies
{
    private const string Image = "ghcr.io/buildkite/cleanroom-base/debian@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// <param name="allow">A YAML flow sequence, e.g. <c>[example.test:443, "10.9.0.0/16:80"]</c>.</param>
    /// <param name="deny">A YAML flow sequence.</param>
    public static NetworkPolicy Compile(string allow, string deny = "[]")
    {
        var yaml = $"version: 1\nsandbox:\n  image:\n    ref: {Image}\n  network:\n    allow: {allow}\n    deny: {deny}\n";
        var result = PolicyCompiler.Compile(yaml, "test.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        return result.Policy!.Network;
    }
}
