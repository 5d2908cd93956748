using Cleanroom.Api.V1;
using Cleanroom.Policy;
using Grpc.Core;

namespace Cleanroom.IntegrationTests;

/// <summary>
/// The CLI sends the compiled policy; the daemon re-validates it, refuses what it cannot enforce (naming each
/// setting) and what exceeds the host's caps, both before anything exists, and records the hash of what it accepts.
/// </summary>
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
            deny:
              - 169.254.169.254
        """;

    private const string AskingForWhatIsNotBuilt = """
        version: 1
        sandbox:
          image:
            ref: ghcr.io/buildkite/cleanroom-base/alpine@sha256:0000000000000000000000000000000000000000000000000000000000000001
          network:
            allow:
              - api.github.com:443
          docker:
            required: true
          run:
            before: make deps
        """;

    [Fact]
    public async Task A_valid_compiled_policy_is_accepted_and_its_hash_recorded()
    {
        var policy = PolicyCompiler.Compile(Yaml, "cleanroom.yaml").Policy!;

        // The explicit image wins over the policy's (whose registry is not reachable from a test).
        var response = await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest { CompiledPolicy = policy.ToJson(), ImageRef = "builtin:busybox" });
        var created = response.Sandbox;
        await daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = created.SandboxId });

        Assert.Equal(policy.Hash, created.PolicyHash);

        // Everything this policy asks for is acted on: nothing to warn about (the checkout needs a repository, which this create did not name).
        Assert.Empty(response.Warnings);
        Assert.Null(created.Workspace);
        var listed = (await daemon.Sandboxes.GetSandboxAsync(new GetSandboxRequest { SandboxId = created.SandboxId })).Sandbox;
        Assert.Equal(policy.Hash, listed.PolicyHash);
    }

    [Fact]
    public async Task A_tampered_compiled_policy_is_refused_before_anything_boots()
    {
        var json = PolicyCompiler.Compile(Yaml, "cleanroom.yaml").Policy!.ToJson().Replace("169.254.169.254", "169.254.169.253", StringComparison.Ordinal);
        var before = (await daemon.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest { All = true })).Sandboxes.Count;

        var error = await Assert.ThrowsAsync<RpcException>(async () => await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest { CompiledPolicy = json, ImageRef = "builtin:busybox" }));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("policy_invalid:", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, (await daemon.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest { All = true })).Sandboxes.Count);
    }

    [Fact]
    public async Task A_policy_asking_for_what_the_daemon_does_not_do_is_refused_naming_each_setting()
    {
        var policy = PolicyCompiler.Compile(AskingForWhatIsNotBuilt, "cleanroom.yaml").Policy!;
        var before = await SandboxCountAsync();

        var error = await Assert.ThrowsAsync<RpcException>(async () => await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest { CompiledPolicy = policy.ToJson(), ImageRef = "builtin:busybox" }));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.StartsWith("backend_capability_mismatch:", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("sandbox.network.allow", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("sandbox.docker.required", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("sandbox.run.before", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, await SandboxCountAsync());
    }

    [Theory]
    [InlineData("disk: 64TiB", "disk")]
    [InlineData("memory: 900GiB", "memory")]
    [InlineData("vcpus: 256", "vCPUs")]
    public async Task Resources_beyond_the_host_caps_are_refused_before_any_file_exists(string resource, string named)
    {
        var yaml = $"""
            version: 1
            sandbox:
              image:
                ref: ghcr.io/buildkite/cleanroom-base/alpine@sha256:0000000000000000000000000000000000000000000000000000000000000001
              resources:
                {resource}
            """;
        var policy = PolicyCompiler.Compile(yaml, "cleanroom.yaml").Policy!;
        var before = await SandboxCountAsync();
        var dirsBefore = Directory.GetFileSystemEntries(Path.Combine(daemon.StateDir, "sandboxes")).Length;

        var error = await Assert.ThrowsAsync<RpcException>(async () => await daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest { CompiledPolicy = policy.ToJson(), ImageRef = "builtin:busybox" }));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.StartsWith("resource_limit_exceeded:", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(named, error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, await SandboxCountAsync());
        Assert.Equal(dirsBefore, Directory.GetFileSystemEntries(Path.Combine(daemon.StateDir, "sandboxes")).Length);
    }

    private async Task<int> SandboxCountAsync() =>
        (await daemon.Sandboxes.ListSandboxesAsync(new ListSandboxesRequest { All = true })).Sandboxes.Count;
}
