using Cleanroom.Gateway.Server;
using Cleanroom.Policy;

namespace Cleanroom.Gateway.Tests.Oci;

/// <summary>Sandboxes with network policies compiled from YAML by the real policy compiler.</summary>
internal static class OciTestPolicies
{
    private const string Image = "ghcr.io/buildkite/cleanroom-base/debian@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// <param name="allow">A YAML flow sequence, e.g. <c>[registry.test:443]</c>.</param>
    public static GatewayClient Client(string allow, string sandboxId = "sb-test")
    {
        var yaml = $"version: 1\nsandbox:\n  image:\n    ref: {Image}\n  network:\n    allow: {allow}\n";
        var result = PolicyCompiler.Compile(yaml, "test.yaml");
        Assert.True(result.IsValid, string.Join("\n", result.Diagnostics));
        return new GatewayClient(sandboxId, result.Policy!.Network, AllowAll: false);
    }
}
