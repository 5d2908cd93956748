using Cleanroom.Guest.Wire.Host;
using Cleanroom.Workspaces.Transfer;

namespace Cleanroom.Daemon.Files;

/// <summary>A write-only stream onto a guest process's stdin (flow-controlled by the guest's window), so a TarWriter can write straight into a tool.</summary>
internal sealed class StdinStream(GuestProcess process) : WriteOnlyStream
{
    public long Written { get; private set; }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await process.WriteStdinAsync(buffer, cancellationToken);
        Written += buffer.Length;
    }
}
