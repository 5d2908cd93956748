using Cleanroom.Policy;
using Grpc.Core;

namespace Cleanroom.Daemon.PolicySupport;

/// <summary>
/// What this daemon does with each policy setting today. A setting it accepts must be acted on: a policy that asks
/// for something not built yet is refused (backend_capability_mismatch, naming every such setting) instead of being
/// validated, hashed and silently ignored. Each feature that lands removes its refusal here and flips its capability.
/// </summary>
public static class PolicyEnforcement
{
    /// <summary>The capabilities the daemon declares (doctor and the API); false means "refused when asked for".</summary>
    public static IReadOnlyList<KeyValuePair<string, bool>> Capabilities { get; } =
    [
        new("exec.streaming", true),
        new("sandbox.persistent", true),
        new("sandbox.auto_remove", true),
        new("policy.image", true),
        new("policy.resources", true),
        new("network.default_deny", false),
        new("network.allowlist_egress", false),
        new("network.guest_interface", false),
        new("policy.docker", false),
        new("policy.dependencies", false),
        new("policy.services", false),
        new("policy.run_before", false),
        new("policy.repository_checkout", false),
    ];

    /// <summary>The settings of <paramref name="policy"/> this daemon cannot honour, each as one phrase; empty when it can.</summary>
    public static IReadOnlyList<string> Unsupported(CompiledPolicy policy)
    {
        var refused = new List<string>();
        if (policy.Network.Allow.Length > 0)
        {
            refused.Add($"sandbox.network.allow ({policy.Network.Allow.Length} rule{(policy.Network.Allow.Length == 1 ? "" : "s")}): sandboxes have no network yet, so allowed egress cannot be provided");
        }

        if (policy.Network.Default == NetworkDefault.Allow)
        {
            refused.Add("sandbox.network.default: allow: sandboxes have no network yet");
        }

        if (policy.DockerRequired)
        {
            refused.Add("sandbox.docker.required: Docker inside the sandbox is not supported yet");
        }

        if (policy.Dependencies.Blocks.Length > 0)
        {
            refused.Add($"sandbox.dependencies ({policy.Dependencies.Blocks.Length} block{(policy.Dependencies.Blocks.Length == 1 ? "" : "s")}): dependency caches are not supported yet");
        }

        if (policy.Services.Blocks.Length > 0)
        {
            refused.Add($"sandbox.services ({policy.Services.Blocks.Length} block{(policy.Services.Blocks.Length == 1 ? "" : "s")}): service caches are not supported yet");
        }

        if (policy.RunBefore is not null)
        {
            refused.Add("sandbox.run.before: commands before every execution are not supported yet");
        }

        return refused;
    }

    /// <summary>Settings not acted on yet that every policy implies by default: told to the user, not refused.</summary>
    public static IReadOnlyList<string> Warnings(CompiledPolicy policy) =>
        policy.Repository.Enabled
            ? [$"the repository is not checked out into {policy.Repository.Path} yet (repository.enabled is true; set it to false to silence this)"]
            : [];

    /// <summary>Throws backend_capability_mismatch listing every unsupported setting.</summary>
    public static void EnsureSupported(CompiledPolicy policy)
    {
        var refused = Unsupported(policy);
        if (refused.Count > 0)
        {
            throw new DaemonException(StatusCode.FailedPrecondition, ReasonCode.BackendCapabilityMismatch,
                "the policy asks for what this daemon does not do yet: " + string.Join("; ", refused));
        }
    }
}
