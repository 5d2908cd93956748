namespace Cleanroom;

/// <summary>
/// The stable snake_case wire names of <see cref="ReasonCode"/>. Spelled out rather than derived from the member
/// names so that renaming a C# member can never change what clients see.
/// </summary>
public static class ReasonCodeNames
{
    /// <summary>Every defined code with its wire name, in numeric order.</summary>
    public static IReadOnlyList<KeyValuePair<ReasonCode, string>> All { get; } =
    [
        new(ReasonCode.Unspecified, "unspecified"),
        new(ReasonCode.PolicyInvalid, "policy_invalid"),
        new(ReasonCode.PolicyConflict, "policy_conflict"),
        new(ReasonCode.BackendUnavailable, "backend_unavailable"),
        new(ReasonCode.BackendCapabilityMismatch, "backend_capability_mismatch"),
        new(ReasonCode.HostNotAllowed, "host_not_allowed"),
        new(ReasonCode.RegistryNotAllowed, "registry_not_allowed"),
        new(ReasonCode.LockfileViolation, "lockfile_violation"),
        new(ReasonCode.SecretScopeViolation, "secret_scope_violation"),
        new(ReasonCode.RuntimeLaunchFailed, "runtime_launch_failed"),
        new(ReasonCode.FailedPrecondition, "failed_precondition"),
        new(ReasonCode.SandboxNotFound, "sandbox_not_found"),
        new(ReasonCode.ExecutionNotFound, "execution_not_found"),
        new(ReasonCode.GuestProtocolError, "guest_protocol_error"),
        new(ReasonCode.Internal, "internal"),
        new(ReasonCode.InvalidArgument, "invalid_argument"),
        new(ReasonCode.ImageNotFound, "image_not_found"),
        new(ReasonCode.ImageRegistryError, "image_registry_error"),
        new(ReasonCode.ImageInvalid, "image_invalid"),
        new(ReasonCode.ResourceLimitExceeded, "resource_limit_exceeded"),
        new(ReasonCode.HostDiskLow, "host_disk_low"),
        new(ReasonCode.ImageTooLarge, "image_too_large"),
        new(ReasonCode.ImageStoreFull, "image_store_full"),
        new(ReasonCode.RepositoryInvalid, "repository_invalid"),
        new(ReasonCode.WorkspaceTooLarge, "workspace_too_large"),
        new(ReasonCode.WorkspaceConflict, "workspace_conflict"),
        new(ReasonCode.UnknownClient, "unknown_client"),
        new(ReasonCode.InvalidRequest, "invalid_request"),
        new(ReasonCode.RateLimited, "rate_limited"),
        new(ReasonCode.MethodNotAllowed, "method_not_allowed"),
        new(ReasonCode.UpstreamError, "upstream_error"),
        new(ReasonCode.DigestMismatch, "digest_mismatch"),
        new(ReasonCode.RouteNotImplemented, "route_not_implemented"),
        new(ReasonCode.RequestTooLarge, "request_too_large"),
        new(ReasonCode.RouteNotFound, "route_not_found"),
    ];

    /// <summary>The wire name, e.g. <c>policy_invalid</c>. Undefined values map to <c>unspecified</c>.</summary>
    public static string ToSnakeCase(this ReasonCode code)
    {
        foreach (var (value, name) in All)
        {
            if (value == code)
            {
                return name;
            }
        }

        return "unspecified";
    }

    /// <summary>Parses a wire name (exact, lowercase). Returns false for anything unknown.</summary>
    public static bool TryParse(string? name, out ReasonCode code)
    {
        foreach (var (value, wireName) in All)
        {
            if (string.Equals(wireName, name, StringComparison.Ordinal))
            {
                code = value;
                return true;
            }
        }

        code = ReasonCode.Unspecified;
        return false;
    }

    /// <summary>Parses a wire name, mapping anything unknown to <see cref="ReasonCode.Unspecified"/>.</summary>
    public static ReasonCode Parse(string? name) => TryParse(name, out var code) ? code : ReasonCode.Unspecified;
}
