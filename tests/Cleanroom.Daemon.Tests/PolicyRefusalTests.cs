using Cleanroom.Daemon.Sandboxes;
using Cleanroom.Policy;

namespace Cleanroom.Daemon.Tests;

/// <summary>A policy setting the daemon cannot honour yet is refused up front, never accepted and ignored.</summary>
public sealed class PolicyRefusalTests
{
    [Fact]
    public void Submodules_are_honoured_not_refused()
    {
        const string yaml = """
            version: 1
            repository:
              submodules: true
            sandbox:
              image:
                ref: ghcr.io/buildkite/cleanroom-base/alpine@sha256:0000000000000000000000000000000000000000000000000000000000000001
            """;
        var compiled = PolicyCompiler.Compile(yaml, "cleanroom.yaml");
        var policy = compiled.Policy ?? throw new InvalidOperationException("the test policy does not compile: " + string.Join("; ", compiled.Errors));

        Assert.True(policy.Repository.Submodules);
        Assert.Empty(PolicySupport.PolicyEnforcement.Unsupported(policy, new PolicySupport.PolicyEnforcement.DaemonFeatures(Network: true)));
        Assert.Contains(PolicySupport.PolicyEnforcement.Capabilities(network: true), c => c.Key == "workspace.submodules" && c.Value);
    }

    [Fact]
    public async Task A_policy_asking_for_unsupported_settings_is_refused_naming_them_before_anything_exists()
    {
        await using var daemon = new DaemonHarness();
        const string yaml = """
            version: 1
            sandbox:
              image:
                ref: ghcr.io/buildkite/cleanroom-base/alpine@sha256:0000000000000000000000000000000000000000000000000000000000000001
              network:
                allow:
                  - api.github.com:443
              docker:
                required: true
            """;
        var compiled = PolicyCompiler.Compile(yaml, "cleanroom.yaml");
        var policy = compiled.Policy ?? throw new InvalidOperationException("the test policy does not compile: " + string.Join("; ", compiled.Errors));

        var error = await Assert.ThrowsAsync<DaemonException>(() => daemon.CreateAsync(new SandboxRequest(BuiltinImage.Ref, Policy: policy)));

        Assert.Equal(ReasonCode.BackendCapabilityMismatch, error.Reason);
        Assert.Contains("sandbox.network.allow", error.Message, StringComparison.Ordinal);
        Assert.Contains("sandbox.docker.required", error.Message, StringComparison.Ordinal);
        Assert.Empty(daemon.Store.ListSandboxes(terminalToo: true, clientKey: null, limit: int.MaxValue));
        Assert.Empty(daemon.WorkDirs());
        Assert.Equal(0, daemon.Backend.StartCalls);
    }
}
