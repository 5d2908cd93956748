using Cleanroom.Guest.Wire.Host;
using Cleanroom.Workspaces.Transfer;

namespace Cleanroom.Daemon.Files;

/// <summary>
/// A write-only stream onto a guest process's stdin (flow-controlled by the guest's window), so a TarWriter or a
/// client's request stream can feed a tool directly. Once the tool has exited (it failed, or stopped at the tar's end
/// marker) what is still written is dropped instead of waiting for window that will never come, so the writer can
/// finish reading its own source (a client stream whose last messages carry more than tar data).
/// </summary>
internal sealed class StdinStream(GuestProcess process) : WriteOnlyStream
{
    /// <summary>Bytes the tool was sent.</summary>
    public long Written { get; private set; }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty || process.Exited.IsCompleted)
        {
            return;
        }

        var write = process.WriteStdinAsync(buffer, cancellationToken);
        if (await Task.WhenAny(write, process.Exited) != write || (write.IsFaulted && process.Exited.IsCompleted))
        {
            // The tool exited while this write waited for window (or the exit failed the write: GuestProcess reports
            // the exit first): the write can never complete; observe it and move on.
            _ = write.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return;
        }

        await write;
        Written += buffer.Length;
    }
}
