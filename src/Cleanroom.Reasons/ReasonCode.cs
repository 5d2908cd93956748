namespace Cleanroom;

/// <summary>
/// Why an operation was refused or failed. Shared by the policy engine, the control API, the CLI and the
/// audit log, so the numeric values and the snake_case wire names (see <see cref="ReasonCodeNames"/>) are a
/// public contract: append new members, never renumber or rename existing ones.
/// </summary>
public enum ReasonCode
{
    /// <summary>No reason was given; never sent on purpose.</summary>
    Unspecified = 0,

    /// <summary>The policy file or payload is malformed or breaks a schema rule.</summary>
    PolicyInvalid = 1,

    /// <summary>The policy is well formed but two parts of it contradict each other.</summary>
    PolicyConflict = 2,

    /// <summary>The requested sandbox backend is not installed or not reachable.</summary>
    BackendUnavailable = 3,

    /// <summary>The backend cannot provide what the policy or request requires.</summary>
    BackendCapabilityMismatch = 4,

    /// <summary>Egress to a destination that the network policy does not allow.</summary>
    HostNotAllowed = 5,

    /// <summary>A package or image registry that the policy does not allow.</summary>
    RegistryNotAllowed = 6,

    /// <summary>A dependency fetch that the repository's lockfile does not pin.</summary>
    LockfileViolation = 7,

    /// <summary>A credential requested outside the scope it was granted for.</summary>
    SecretScopeViolation = 8,

    /// <summary>The virtual machine or its guest agent could not be started.</summary>
    RuntimeLaunchFailed = 9,

    /// <summary>The target is not in a state that allows the operation.</summary>
    FailedPrecondition = 10,

    /// <summary>No sandbox has the given id.</summary>
    SandboxNotFound = 11,

    /// <summary>No execution has the given id.</summary>
    ExecutionNotFound = 12,

    /// <summary>The guest agent sent something the host does not accept.</summary>
    GuestProtocolError = 13,

    /// <summary>A bug or an unexpected host failure.</summary>
    Internal = 14,

    /// <summary>A request was malformed: a missing command, a bad id, an invalid option value.</summary>
    InvalidArgument = 15,

    /// <summary>The image is not in the store, or the registry has no such repository, tag or digest.</summary>
    ImageNotFound = 16,

    /// <summary>The registry refused us (credentials missing or wrong) or could not be reached.</summary>
    ImageRegistryError = 17,

    /// <summary>The image is unusable: a blob failed verification, a layer is hostile, or it is for another platform.</summary>
    ImageInvalid = 18,

    /// <summary>A host-wide or per-sandbox limit would be exceeded: vCPUs, memory, disk, or an execution's output cap.</summary>
    ResourceLimitExceeded = 19,

    /// <summary>The daemon's file system is below its free-space reserve; nothing new that needs disk is started.</summary>
    HostDiskLow = 20,

    /// <summary>The image (a layer, all its layers, its config or a manifest) is larger than a configured limit.</summary>
    ImageTooLarge = 21,

    /// <summary>The image store has no room for the image, even with every unused image evicted.</summary>
    ImageStoreFull = 22,

    /// <summary>The repository to check out cannot be used: not a git repository, an unknown commit, a bad URL or a failed fetch.</summary>
    RepositoryInvalid = 23,

    /// <summary>The commit's tree, or the changes copied in or out of a workspace, exceed a configured limit.</summary>
    WorkspaceTooLarge = 24,

    /// <summary>A copy-out would overwrite local edits made since the sandbox started (use --force to overwrite them).</summary>
    WorkspaceConflict = 25,

    /// <summary>A gateway request came from an address that belongs to no sandbox.</summary>
    UnknownClient = 26,

    /// <summary>A gateway request target or header is malformed or hostile (dot segments, bad escapes, control characters).</summary>
    InvalidRequest = 27,

    /// <summary>A sandbox sent the gateway more requests, or more at once, than its limits allow.</summary>
    RateLimited = 28,

    /// <summary>The gateway route does not serve this method or path (a git push, for one).</summary>
    MethodNotAllowed = 29,

    /// <summary>The gateway's upstream failed or could not be reached, and nothing cached could stand in.</summary>
    UpstreamError = 30,

    /// <summary>A pinned download's bytes did not hash to the pinned digest; nothing was cached.</summary>
    DigestMismatch = 31,

    /// <summary>The gateway route exists in the design but is not built yet.</summary>
    RouteNotImplemented = 32,

    /// <summary>A gateway request body is larger than the gateway accepts.</summary>
    RequestTooLarge = 33,

    /// <summary>No gateway route serves this path.</summary>
    RouteNotFound = 34,
}
