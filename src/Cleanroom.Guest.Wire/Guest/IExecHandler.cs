using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Guest;

/// <summary>Runs one process for the host. The agent implements this; the protocol is handled by <see cref="AgentServer"/>.</summary>
public interface IExecHandler
{
    /// <summary>
    /// Runs <paramref name="request"/> to completion, reading stdin and writing output through <paramref name="session"/>.
    /// Cancellation means the host connection is gone: kill the process and return.
    /// </summary>
    Task<ExitMessage> RunAsync(ExecRequest request, ExecSession session, CancellationToken cancellationToken);
}
