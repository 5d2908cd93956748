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
    /// <summary>What this daemon was started with that decides what it can honour.</summary>
    /// <param name="Network">Sandboxes get a network (TAP, firewall, DNS filter); false with <c>--no-network</c> or without root.</param>
    /// <param name="AllowAll">The create asked for <c>--dangerously-allow-all</c>.</param>
    public sealed record DaemonFeatures(bool Network, bool AllowAll = false);

    /// <summary>
    /// The capabilities the daemon declares (doctor and the API); false means "refused when asked for". Without a
    /// network, egress is still denied by default: the guest has no network card at all.
    /// </summary>
    /// <param name="network">Sandboxes get a network.</param>
    /// <param name="ipv6">Their network has IPv6 too (<c>--ipv6</c>), under the same allowlist.</param>
    public static IReadOnlyList<KeyValuePair<string, bool>> Capabilities(bool network, bool ipv6 = false) =>
    [
        new("exec.streaming", true),
        new("sandbox.persistent", true),
        new("sandbox.auto_remove", true),
        new("policy.image", true),
        new("policy.resources", true),
        new("network.default_deny", true),
        new("network.allowlist_egress", network),
        new("network.guest_interface", network),
        new("network.dns_filter", network),
        new("network.egress_audit", network),
        new("network.server_name_check", network),
        new("network.ipv6", network && ipv6),
        new("policy.docker", false),
        new("policy.dependencies", false),
        new("policy.services", false),
        new("policy.run_before", false),
        new("policy.repository_checkout", true),
        new("workspace.repo_url", true),
        new("workspace.copy_in_out", true),
        new("workspace.submodules", true),
        new("files.api", true),
    ];

    /// <summary>The settings of <paramref name="policy"/> this daemon cannot honour, each as one phrase; empty when it can.</summary>
    public static IReadOnlyList<string> Unsupported(CompiledPolicy? policy, DaemonFeatures features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var refused = new List<string>();
        if (features.AllowAll && !features.Network)
        {
            refused.Add("--dangerously-allow-all: this daemon runs without a sandbox network (--no-network, or not root), so there is no egress to allow");
        }

        if (policy is null)
        {
            return refused;
        }

        if (policy.Network.Allow.Length > 0 && !features.Network)
        {
            refused.Add($"sandbox.network.allow ({policy.Network.Allow.Length} rule{(policy.Network.Allow.Length == 1 ? "" : "s")}): this daemon runs without a sandbox network (--no-network, or not root), so allowed egress cannot be provided");
        }

        if (policy.Network.Default == NetworkDefault.Allow && !features.AllowAll)
        {
            refused.Add("sandbox.network.default: allow: only --dangerously-allow-all turns egress filtering off");
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

    /// <summary>
    /// Settings not acted on yet that a policy implies by default: told to the user, not refused. None today (the
    /// repository checkout, the last one, landed); kept so the next such setting has its place.
    /// </summary>
    public static IReadOnlyList<string> Warnings(CompiledPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return [];
    }

    /// <summary>Throws backend_capability_mismatch listing every unsupported setting.</summary>
    public static void EnsureSupported(CompiledPolicy? policy, DaemonFeatures features)
    {
        var refused = Unsupported(policy, features);
        if (refused.Count > 0)
        {
            throw new DaemonException(StatusCode.FailedPrecondition, ReasonCode.BackendCapabilityMismatch,
                "the policy asks for what this daemon does not do yet: " + string.Join("; ", refused));
        }
    }
}
