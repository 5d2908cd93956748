using Cleanroom.Api.V1;
using Cleanroom.Policy;
using Grpc.Core;

namespace Cleanroom.IntegrationTests;

/// <summary>The CLI sends the compiled policy; the daemon re-validates it and records its hash.</summary>
[Collection(DaemonTestGroup.Name)]
public sealed class PolicyHandoffTests(DaemonFixture daemon)
{
    private const string Yaml = """
        version: 1
        sandbox:
          image:
            ref: ghcr.io/buildkite/cleanroom-base/alpine@sha256:0000000000000000000000000000000000000000000000000000000000000001
          network:
            default: deny
            allow:
              - api.github.com:443
        """;

    [Fact]
    public async Task A_valid_compiled_policy_is_accepted_and_its_hash_recorded()
    {
        var policy = PolicyCompiler.Compile(Yaml, "cleanroom.yaml").Policy!;

        // The explicit image wins over the policy's (whose registry is not reachable from a test).
        var created = (await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest { CompiledPolicy = policy.ToJson(), ImageRef = "builtin:busybox" })).Sandbox;
        await daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = created.SandboxId });

        Assert.Equal(policy.Hash, created.PolicyHash);
        var listed = (await daemon.Sandboxes.GetSandboxAsync(new GetSandboxRequest { SandboxId = created.SandboxId })).Sandbox;
        Assert.Equal(policy.Hash, listed.PolicyHash);
    }

    [Fact]
    public async Task A_tampered_compiled_policy_is_refused_before_anything_boots()
    {
        var json = PolicyCompiler.Compile(Yaml, "cleanroom.yaml").Policy!.ToJson().Replace("api.github.com", "evil.example.com", StringComparison.Ordinal);
        var before = (await daemon.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest { All = true })).Sandboxes.Count;

        var error = await Assert.ThrowsAsync<RpcException>(async () => await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest { CompiledPolicy = json, ImageRef = "builtin:busybox" }));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("policy_invalid:", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, (await daemon.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest { All = true })).Sandboxes.Count);
    }
}
