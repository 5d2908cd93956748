namespace Cleanroom.Reasons.Tests;

/// <summary>The reason codes are a wire contract: values and names are pinned here.</summary>
public sealed class ReasonCodeTests
{
    public static TheoryData<ReasonCode, int, string> Contract() => new()
    {
        { ReasonCode.Unspecified, 0, "unspecified" },
        { ReasonCode.PolicyInvalid, 1, "policy_invalid" },
        { ReasonCode.PolicyConflict, 2, "policy_conflict" },
        { ReasonCode.BackendUnavailable, 3, "backend_unavailable" },
        { ReasonCode.BackendCapabilityMismatch, 4, "backend_capability_mismatch" },
        { ReasonCode.HostNotAllowed, 5, "host_not_allowed" },
        { ReasonCode.RegistryNotAllowed, 6, "registry_not_allowed" },
        { ReasonCode.LockfileViolation, 7, "lockfile_violation" },
        { ReasonCode.SecretScopeViolation, 8, "secret_scope_violation" },
        { ReasonCode.RuntimeLaunchFailed, 9, "runtime_launch_failed" },
        { ReasonCode.FailedPrecondition, 10, "failed_precondition" },
        { ReasonCode.SandboxNotFound, 11, "sandbox_not_found" },
        { ReasonCode.ExecutionNotFound, 12, "execution_not_found" },
        { ReasonCode.GuestProtocolError, 13, "guest_protocol_error" },
        { ReasonCode.Internal, 14, "internal" },
        { ReasonCode.InvalidArgument, 15, "invalid_argument" },
        { ReasonCode.ImageNotFound, 16, "image_not_found" },
        { ReasonCode.ImageRegistryError, 17, "image_registry_error" },
        { ReasonCode.ImageInvalid, 18, "image_invalid" },
        { ReasonCode.ResourceLimitExceeded, 19, "resource_limit_exceeded" },
        { ReasonCode.HostDiskLow, 20, "host_disk_low" },
        { ReasonCode.ImageTooLarge, 21, "image_too_large" },
        { ReasonCode.ImageStoreFull, 22, "image_store_full" },
        { ReasonCode.RepositoryInvalid, 23, "repository_invalid" },
        { ReasonCode.WorkspaceTooLarge, 24, "workspace_too_large" },
        { ReasonCode.WorkspaceConflict, 25, "workspace_conflict" },
        { ReasonCode.UnknownClient, 26, "unknown_client" },
        { ReasonCode.InvalidRequest, 27, "invalid_request" },
        { ReasonCode.RateLimited, 28, "rate_limited" },
        { ReasonCode.MethodNotAllowed, 29, "method_not_allowed" },
        { ReasonCode.UpstreamError, 30, "upstream_error" },
        { ReasonCode.DigestMismatch, 31, "digest_mismatch" },
        { ReasonCode.RouteNotImplemented, 32, "route_not_implemented" },
        { ReasonCode.RequestTooLarge, 33, "request_too_large" },
        { ReasonCode.RouteNotFound, 34, "route_not_found" },
    };

    [Theory]
    [MemberData(nameof(Contract))]
    public void Value_and_name_are_stable(ReasonCode code, int value, string name)
    {
        Assert.Equal(value, (int)code);
        Assert.Equal(name, code.ToSnakeCase());
        Assert.True(ReasonCodeNames.TryParse(name, out var parsed));
        Assert.Equal(code, parsed);
        Assert.Equal(code, ReasonCodeNames.Parse(name));
    }

    [Fact]
    public void Every_member_is_in_the_contract()
    {
        Assert.Equal(Enum.GetValues<ReasonCode>().Length, Contract().Count);
        Assert.Equal(Enum.GetValues<ReasonCode>(), ReasonCodeNames.All.Select(pair => pair.Key));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("POLICY_INVALID")]
    [InlineData("policy-invalid")]
    [InlineData("nonsense")]
    public void Unknown_names_do_not_parse(string? name)
    {
        Assert.False(ReasonCodeNames.TryParse(name, out var code));
        Assert.Equal(ReasonCode.Unspecified, code);
        Assert.Equal(ReasonCode.Unspecified, ReasonCodeNames.Parse(name));
    }

    [Fact]
    public void Undefined_values_render_as_unspecified()
    {
        Assert.Equal("unspecified", ((ReasonCode)999).ToSnakeCase());
    }
}
