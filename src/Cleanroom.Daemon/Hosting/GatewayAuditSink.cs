using Cleanroom.Gateway.Server;
using Cleanroom.Network;

namespace Cleanroom.Daemon.Hosting;

/// <summary>
/// Turns the gateway's refusals into egress denials: an event on the sandbox and a line in the audit log, rate-limited
/// per sandbox like every other denial. The destination is the host and the path the guest asked for, separated by a
/// space (its own text): cut here to a bound, escaped by the audit log when stored.
/// </summary>
internal sealed class GatewayAuditSink(IEgressAudit audit) : IGatewayAudit
{
    /// <summary>The protocol denials from the gateway are recorded under.</summary>
    public const string Protocol = "gateway";

    /// <summary>Most characters of host and path kept before escaping (the audit log cuts the escaped text again).</summary>
    public const int MaxDestinationLength = 1024;

    /// <summary>Most characters of a reason code; the gateway's codes are short snake_case words.</summary>
    private const int MaxReasonLength = 64;

    public void Refused(GatewayRefusal refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        if (string.IsNullOrEmpty(refusal.SandboxId))
        {
            return; // no sandbox to attribute it to: the source address belongs to none (the gateway logs those)
        }

        // "github.com /git/github.com/o/r.git/info/refs?service=git-upload-pack": the host alone says what was refused,
        // the path (which repeats it for the git route) what was asked of it.
        var destination = string.Join(' ', new[] { refusal.Host, refusal.Path }.Where(part => !string.IsNullOrEmpty(part)));
        if (destination.Length > MaxDestinationLength)
        {
            destination = destination[..MaxDestinationLength];
        }

        audit.Denied(new EgressDenial(refusal.SandboxId, refusal.Time, destination, GatewayOptions.GuestPort, Protocol, Reason(refusal.Reason)));
    }

    /// <summary>A reason code as the audit log stores it: snake_case, bounded; anything else is recorded as unknown.</summary>
    private static string Reason(string? reason) =>
        reason is { Length: > 0 and <= MaxReasonLength } && reason.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')
            ? reason
            : "unknown";
}
