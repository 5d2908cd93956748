using Cleanroom.Policy;
using Grpc.Core;

namespace Cleanroom.Daemon.Services;

/// <summary>
/// The compiled policy a client sends with a create. The daemon trusts nothing in it: it is re-validated from
/// scratch and its hash recomputed, so a hand-edited or stale payload is refused with the reasons.
/// </summary>
internal static class PolicyPayload
{
    /// <summary>Compiled policies are small; this bounds the work a hostile client can ask for.</summary>
    public const int MaxBytes = 1024 * 1024;

    public static CompiledPolicy Validate(string json)
    {
        if (json.Length > MaxBytes)
        {
            throw new DaemonException(StatusCode.InvalidArgument, ReasonCode.PolicyInvalid, $"the compiled policy is larger than {MaxBytes} bytes");
        }

        try
        {
            return CompiledPolicy.FromJson(json);
        }
        catch (PolicyValidationException ex)
        {
            throw new DaemonException(StatusCode.InvalidArgument, ex.Reason, "the compiled policy was rejected: " + ex.Message);
        }
    }
}
